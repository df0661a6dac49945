"""Parsers on small real-shaped documents: structure, anchors, lines, markup, failures."""

from __future__ import annotations

import pytest

from docsage.errors import ParseError
from docsage.ingest.parsers import html, jsonl, markdown, python, rst, text
from docsage.ingest.parsers._common import Slugger
from docsage.ingest.parsers.registry import parser_for
from docsage.types import Section

MARKDOWN = """\
---
title: Install guide
tags: [a, b]
---
Intro before any heading.

# Getting **started**

Use the [installer](https://x.example) and `pip`.

## Configure

```python
x = 1

y = 2
```

| Option | Default |
|--------|---------|
| depth  | 3       |

- one
- two

## Configure

Again.
"""

RST = """\
Regular expressions
===================

.. module:: re

Intro with :func:`os.path.join` and **bold** text.

.. _my-target:

Functions
---------

.. function:: sub(pattern, repl, string)

   Return the string obtained by replacing.

.. class:: Pattern(x)

   Compiled object.

   .. method:: search(string)

      Scan through *string*.

Example::

   a = 1

   b = 2

.. versionadded:: 3.2
   Something new.
"""

HTML = """\
<html><head><title>re — Python docs</title><script>var x = 1;</script></head><body>
<div class="sphinxsidebar"><p>Sidebar noise</p></div>
<div class="body" role="main">
<section id="module-re">
<h1>re — Regular expressions<a class="headerlink" href="#module-re">¶</a></h1>
<p>The <code>re</code> module <em>provides</em> matching.</p>
<section id="functions">
<h2>Functions<a class="headerlink" href="#functions">¶</a></h2>
<p>Module-level functions.</p>
<dl class="py function">
<dt class="sig sig-object py" id="re.sub">re.sub(<em>pattern</em>, <em>repl</em>)<a
 class="headerlink" href="#re.sub">¶</a></dt>
<dd><p>Return the string obtained by replacing.</p>
<div class="highlight"><pre>&gt;&gt;&gt; re.sub('a', 'b', 'aa')

'bb'</pre></div></dd></dl>
<span class="target" id="func-pattern"></span><dl class="py class">
<dt class="sig sig-object py">class re.Pattern</dt>
<dd><p>Compiled regular expression object.</p>
<dl class="py method">
<dt class="sig sig-object py" id="re.Pattern.search">Pattern.search(<em>string</em>)<a
 class="headerlink" href="#re.Pattern.search">¶</a></dt>
<dd><p>Scan through string.</p></dd></dl>
</dd></dl>
<table><tr><th>Flag</th><th>Meaning</th></tr><tr><td>re.I</td><td>ignore case</td></tr></table>
</section></section></div>
<div class="footer">Footer noise</div>
</body></html>
"""

PYTHON = '''\
"""Tools for widgets."""

import os


class Widget(Base):
    """A widget."""

    def render(self, width: int = 3) -> str:
        """Render it."""
        return "w" * width


def helper(x):
    return x + 1
'''


def by_anchor(sections: list[Section]) -> dict[str, Section]:
    return {s.anchor: s for s in sections}


def test_markdown_sections_front_matter_and_lines() -> None:
    sections = markdown.parse(MARKDOWN)
    first, started, configure, again = sections
    assert (first.title, first.anchor, first.blocks[0].line_start) == ("Install guide", "", 5)
    assert started.title == "Getting started"
    assert started.anchor == "getting-started"
    assert started.blocks[0].text == "Use the installer and pip."
    assert configure.heading_path == ("Getting started", "Configure")
    assert [b.kind for b in configure.blocks] == ["code", "table", "list"]
    code = configure.blocks[0]
    assert code.text == "x = 1\n\ny = 2"
    assert (code.line_start, code.line_end) == (13, 17)
    assert configure.blocks[1].text == "Option | Default\ndepth | 3"
    assert (configure.blocks[2].line_start, configure.blocks[2].line_end) == (23, 24)
    assert again.anchor == "configure-1"


def test_mdx_drops_imports_and_jsx() -> None:
    source = (
        "import X from 'x'\nexport const meta = {\n  a: 1,\n}\n\n# Hi\n\n"
        "<Note kind='a' />\n\nBody\n"
    )
    [section] = markdown.parse_mdx(source)
    assert section.title == "Hi"
    assert [b.text for b in section.blocks] == ["Body"]
    assert section.blocks[0].line_start == 10


def test_github_slug_dedupes_like_github() -> None:
    slugger = Slugger()
    assert [slugger.slug(t) for t in ["A b!", "A b", "A b-1", "A b"]] == [
        "a-b",
        "a-b-1",
        "a-b-1-1",
        "a-b-2",
    ]


def test_rst_sections_api_entries_and_lines() -> None:
    sections = by_anchor(rst.parse(RST))
    top = sections["regular-expressions"]
    assert top.blocks[0].text == "Intro with os.path.join and bold text."
    assert (top.blocks[0].line_start, top.blocks[0].line_end) == (6, 6)
    # Sphinx's id for the section is its title's; the label before it is a second id.
    functions = sections["functions"]
    assert functions.heading_path == ("Regular expressions", "Functions")
    literal = next(b for b in functions.blocks if b.kind == "code")
    assert literal.text == "a = 1\n\nb = 2"
    assert (literal.line_start, literal.line_end) == (27, 29)
    assert functions.blocks[-1].text == "New in version 3.2: Something new."
    sub = sections["re.sub"]
    assert (sub.kind, sub.title) == ("api", "sub(pattern, repl, string)")
    assert sub.heading_path[-1] == "sub(pattern, repl, string)"
    assert sub.line_start == 15
    method = sections["re.Pattern.search"]
    assert method.heading_path[-2:] == ("class Pattern(x)", "search(string)")
    assert method.text == "Scan through string."


def test_rst_unknown_sphinx_directive_keeps_content() -> None:
    sections = rst.parse(
        "Title\n=====\n\n.. impl-detail::\n\n   Kept text.\n\n.. toctree::\n\n   a\n"
    )
    assert [b.text for b in sections[0].blocks] == ["Kept text."]


def test_html_sphinx_page() -> None:
    sections = by_anchor(html.parse(HTML))
    assert set(sections) == {
        "module-re",
        "functions",
        "re.sub",
        "func-pattern",
        "re.Pattern.search",
    }
    top = sections["module-re"]
    assert top.title == "re — Regular expressions"
    assert top.text == "The re module provides matching."
    functions = sections["functions"]
    assert [b.kind for b in functions.blocks] == ["prose", "table"]
    assert functions.blocks[1].text == "Flag | Meaning\nre.I | ignore case"
    sub = sections["re.sub"]
    assert (sub.kind, sub.title) == ("api", "re.sub(pattern, repl)")
    assert sub.blocks[1].text == ">>> re.sub('a', 'b', 'aa')\n\n'bb'"
    assert sub.line_start is None
    cls = sections["func-pattern"]
    assert "Scan through" not in cls.text
    assert sections["re.Pattern.search"].heading_path == (
        "re — Regular expressions",
        "Functions",
        "class re.Pattern",
        "Pattern.search(string)",
    )
    assert "noise" not in " ".join(s.text for s in sections.values()).lower()


def test_html_plain_headings_use_ids_or_slugs() -> None:
    page = (
        "<body><h1 id='top'>Top</h1><p>a</p>"
        "<h2>Next step</h2>loose <b>text</b><ul><li>x</li></ul></body>"
    )
    sections = html.parse(page)
    assert [(s.anchor, s.heading_path) for s in sections] == [
        ("top", ("Top",)),
        ("next-step", ("Top", "Next step")),
    ]
    assert [b.text for b in sections[1].blocks] == ["loose text", "- x"]


def test_python_module() -> None:
    sections = python.parse(PYTHON)
    module, widget, render, helper = sections
    assert (module.kind, module.anchor, module.text) == ("module", "", "Tools for widgets.")
    assert (widget.kind, widget.title, widget.anchor) == ("class", "class Widget(Base)", "Widget")
    assert (render.anchor, render.kind) == ("Widget.render", "function")
    assert render.title == "def render(self, width: int=3) -> str"
    assert render.heading_path == ("Widget", "render")
    assert (render.line_start, render.line_end) == (9, 11)
    assert render.blocks[-1].text.strip() == 'return "w" * width'
    assert helper.blocks[-1].line_start == 15


def test_python_syntax_error_is_parse_error() -> None:
    with pytest.raises(ParseError):
        python.parse("def broken(:\n")


def test_jsonl_skips_bad_lines_but_not_all() -> None:
    source = '{"_id": "d1", "title": "T", "text": "Body"}\nnot json\n\n{"id": 7, "text": "x"}\n'
    first, second = jsonl.parse(source)
    assert (first.anchor, first.title, first.text, first.line_start) == ("d1", "T", "Body", 1)
    assert (second.anchor, second.kind, second.line_start) == ("7", "record", 4)
    with pytest.raises(ParseError):
        jsonl.parse("nope\n[1, 2]\n")


def test_text_paragraphs_and_lines() -> None:
    [section] = text.parse("Short title\n\nPara one\ncontinues.\n\n\nPara two.\n")
    assert section.title == "Short title"
    assert [(b.line_start, b.line_end) for b in section.blocks] == [(1, 1), (3, 4), (7, 7)]


@pytest.mark.parametrize(
    "parse", [markdown.parse, rst.parse, html.parse, text.parse, python.parse, jsonl.parse]
)
def test_empty_documents_give_no_sections(parse: object) -> None:
    assert callable(parse)
    assert parse("") == []


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("docs/a.MD", markdown.parse),
        ("a.mdx", markdown.parse_mdx),
        ("x/lib.rst.txt", rst.parse),
        ("a.rst", rst.parse),
        ("a.htm", html.parse),
        ("README", text.parse),
        ("n.txt", text.parse),
        ("m.pyi", python.parse),
        ("c.jsonl", jsonl.parse),
        ("img.png", None),
        ("Makefile", None),
    ],
)
def test_registry_by_suffix(path: str, expected: object) -> None:
    assert parser_for(path) is expected


RST_LINES = """\
Top
===

:mod:`shelve` --- Python object persistence
-------------------------------------------

Subsection
^^^^^^^^^^

Body of the subsection.

.. function:: bare(x)

.. function:: noted(y)

   .. versionadded:: 3.11
"""


def test_rst_body_less_sections_and_version_notes_get_their_lines() -> None:
    sections = by_anchor(rst.parse(RST_LINES))
    # A section with no body before its subsection: its chunk is its title, on line 4 (the
    # title is written with markup, and docutils reports the underline's line, 5).
    shelve = sections["shelve-python-object-persistence"]
    assert [(b.text, b.line_start, b.line_end) for b in shelve.blocks] == [(shelve.title, 4, 4)]
    assert sections["subsection"].blocks[0].line_start == 10
    bare = sections["bare"]
    assert [(b.text, b.line_start) for b in bare.blocks] == [("bare(x)", 12)]
    # "New in version 3.11." is not in the source: it points at the directive's line
    [note] = sections["noted"].blocks
    assert (note.text, note.line_start, note.line_end) == ("New in version 3.11.", 16, 16)


def test_html_asciidoc_labelled_list_takes_the_id_of_its_wrapper() -> None:
    """asciidoc renders ``[[user-name]]`` before a labelled list as an id on the list's
    wrapper (git's gitfaq.html): the entry is its own section at that anchor."""
    page = """<html><body><h2 id="_configuration">Configuration</h2>
    <div class="dlist" id="user-name"><dl><dt class="hdlist1">What should I put in
    <code>user.name</code>?</dt><dd><p>Your personal name.</p></dd>
    <dt class="hdlist1">How do I know if I want a fetch or a pull?</dt>
    <dd><p>A fetch stores a copy of the latest changes.</p></dd></dl></div>
    <div class="dlist"><dl><dt>Plain term</dt><dd><p>plain text</p></dd></dl></div>
    </body></html>"""
    parsed = html.parse(page)
    sections = {s.anchor: s for s in parsed}
    entry = sections["user-name"]
    assert entry.title == "What should I put in user.name?"
    assert "Your personal name." in entry.text
    # The next question of the same list is an entry of its own, with its answer (it used
    # to be a bare line in the section, its answer dropped).
    second = next(s for s in parsed if s.title.startswith("How do I know"))
    assert second.anchor == "_configuration" and "latest changes" in second.text
    configuration = next(s for s in parsed if s.title == "Configuration")
    assert "Plain term" in configuration.text


def test_rst_roles_read_as_the_built_docs_show_them() -> None:
    # SQLAlchemy's sources: a leading dot, a private module alias, ~ for the last component,
    # and :ref: to a label, shown by Sphinx as the labelled section's title.
    src = (
        ".. _dbengine_logging:\n\nConfiguring Logging\n===================\n\n"
        "Call :meth:`.Session.commit` on :class:`_engine.Engine`; see"
        " :func:`~sqlalchemy.orm.relationship`, :ref:`dbengine_logging`,"
        " :ref:`the pool <pooling_toplevel>` and :ref:`pooling_toplevel`.\n"
    )
    [section] = rst.parse(src)
    assert section.blocks[0].text == (
        "Call Session.commit on Engine; see relationship, Configuring Logging,"
        " the pool and pooling toplevel."
    )


DJANGO_LIKE = """<html><head><title>Models | Django docs</title></head><body>
<div id="header"><ul class="nav"><li><a href="/">Home</a></li><li><a href="/dl">Download</a></li>
<li><a href="/docs">Documentation</a></li><li><a href="/news">News</a></li></ul></div>
<div id="docs-content"><div class="section" id="models">
<h1>Models</h1>
<p>A model is the single source of truth about your data. See <a href="fields.html">fields</a>
and <a href="meta.html">Meta options</a> for the details of each <a href="x.html">part</a>.</p>
<div class="browse">Browse <a href="prev.html">Prev: Queries</a> | <a href="next.html">Next:
Managers</a> | <a href="index.html">Table of contents</a></div>
</div></div></body></html>"""


def test_html_without_a_marked_content_region_drops_its_navigation() -> None:
    sections = html.parse(DJANGO_LIKE)
    text = " ".join(s.text for s in sections)
    assert "single source of truth" in text and "Meta options" in text  # prose with links
    for nav in ("Download", "News", "Prev: Queries", "Table of contents"):
        assert nav not in text, nav


def test_html_with_a_main_region_keeps_link_lists_inside_it() -> None:
    page = DJANGO_LIKE.replace('<div id="docs-content">', '<div id="docs-content" role="main">')
    text = " ".join(s.text for s in html.parse(page))
    assert "Table of contents" in text and "Download" not in text
