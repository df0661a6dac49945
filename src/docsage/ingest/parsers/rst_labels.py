"""reST labels across the files of one ingest: ``.. _label:`` -> the title of the section it
names, so that ``:ref:`label``` to another file shows that title, as Sphinx does.

The reST parser reads one file at a time and sees only that file's sections, so a ``:ref:``
to a label in another file could only show the label in words ("dbengine logging" where the
built docs say "Configuring Logging"). The ingest scans every reST file first with
:func:`label_titles` (lines and regular expressions, no docutils: linear, milliseconds for a
few hundred files) and hands the map to the parser, whose own sections still win.

A label names a section when, after blank lines or further labels, a title follows with its
underline (and optional overline); ``currentmodule`` or ``rst-class`` between the two does
not break the link. Labels before anything else (another directive, a paragraph) are left
out: Sphinx needs an explicit title for most of those too. Labels are case-insensitive, as
in Sphinx. :func:`refs_digest` is what a file's content hash adds, so
a file is parsed again when a section title it refers to changes in another file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

RST_SUFFIXES = (".rst", ".rst.txt")
_LABEL = re.compile(r"^\.\. _(`[^`]+`|[^`:][^:]*):\s*$")
_REF = re.compile(r"(?<![\w`]):(?:std:)?ref:`([^`]+)`", re.IGNORECASE)
_TITLED = re.compile(r"^(.+?)\s*<([^<>]+)>$", re.DOTALL)
_ROLE = re.compile(r":[\w:+.-]+:`([^`]+)`|`([^`]+)`:[\w:+.-]+:")
_INLINE = re.compile(r"``(.+?)``|`([^`]+?)`__?|`([^`]+)`|\*\*(.+?)\*\*|\*(.+?)\*")
_DIRECTIVE = re.compile(r"^\.\.[ \t]+([\w:-]+)[ \t]*::")
_NO_NODE = frozenset(
    {"currentmodule", "py:currentmodule", "rst-class", "default-role", "default-domain"}
)
_MODULE_ALIAS = re.compile(r"^_\w+\.(?=\w)")


def is_rst(source: str) -> bool:
    return source.lower().endswith(RST_SUFFIXES)


def normalize(label: str) -> str:
    """How Sphinx compares labels: lower case, runs of whitespace as one space."""
    return " ".join(label.lower().split())


def label_titles(texts: Iterable[str]) -> dict[str, str]:
    """Every section label in ``texts`` (normalized) -> its section's title as displayed;
    a label defined twice keeps its first title."""
    titles: dict[str, str] = {}
    for text in texts:
        for label, title in scan(text).items():
            titles.setdefault(label, title)
    return titles


def scan(text: str) -> dict[str, str]:
    """One file's section labels -> titles (see the module docstring)."""
    lines = text.splitlines()
    found: dict[str, str] = {}
    pending: list[str] = []
    options = False  # in the option lines of a directive that makes no node
    for i, line in enumerate(lines):
        label = _LABEL.match(line)
        if label and label.group(1) != "_":  # ``.. __:`` is an anonymous link target
            pending.append(normalize(label.group(1).strip("`")))
        elif not pending or not line.strip() or (options and line[:1].isspace()):
            continue
        elif _makes_no_node(line):
            options = True
        else:
            title = _title_at(lines, i)
            for name in pending if title else ():
                found.setdefault(name, title)
            pending, options = [], False
    return found


def _makes_no_node(line: str) -> bool:
    """A directive between a label and its title that leaves the label on the section
    (``currentmodule``, ``rst-class``: they put no node between the two)."""
    directive = _DIRECTIVE.match(line)
    return bool(directive and directive.group(1).lower() in _NO_NODE)


def _title_at(lines: list[str], i: int) -> str:
    """The displayed title of a section heading starting at line ``i``, or ``""``."""
    over = _is_adornment(lines[i])
    text_at = i + 1 if over else i
    if text_at + 1 >= len(lines) or not _is_adornment(lines[text_at + 1]):
        return ""
    title = lines[text_at]
    if not title.strip() or _is_adornment(title) or (title[:1].isspace() and not over):
        return ""
    if over and lines[text_at + 1].strip()[0] != lines[i].strip()[0]:
        return ""
    return displayed(title)


def _is_adornment(line: str) -> bool:
    """A section underline or overline: one punctuation character repeated."""
    text = line.strip()
    return len(text) >= 2 and len(set(text)) == 1 and not text[0].isalnum()


def displayed(title: str) -> str:
    """A title's source as the built page shows it: roles as their titles or targets,
    literals, emphasis and links as their text."""
    text = _ROLE.sub(lambda m: _role_text(m.group(1) or m.group(2)), title)
    text = _INLINE.sub(_inline_text, text)
    return " ".join(re.sub(r"\\(.)", r"\1", text).split())


def _inline_text(match: re.Match[str]) -> str:
    literal, link, interpreted, strong, emphasis = match.groups()
    if link is not None:
        titled = _TITLED.match(link)
        return titled.group(1) if titled else link
    return next(g for g in (literal, interpreted, strong, emphasis) if g is not None)


def _role_text(raw: str) -> str:
    titled = _TITLED.match(raw)
    return titled.group(1) if titled else shown_target(raw)


def shown_target(target: str) -> str:
    """What Sphinx displays for a role's bare target: ``~a.b.c`` -> ``c`` (last component),
    ``.Session.commit`` -> ``Session.commit`` (a leading dot only widens the search),
    ``!name`` -> ``name``. SQLAlchemy's ``_engine.Engine`` is a module alias its Sphinx
    extension (zzzeeksphinx) hides, leaving ``Engine``; a public name never starts so."""
    shown = target.lstrip("!")
    if shown.startswith("~"):
        return shown[1:].rsplit(".", 1)[-1]
    return _MODULE_ALIAS.sub("", shown.lstrip("."))


def refs_digest(text: str, labels: Mapping[str, str]) -> str:
    """A digest of the titles ``labels`` gives the labels that ``text`` refers to; ``""``
    when it refers to none."""
    refs = (m.group(1) for m in _REF.finditer(text))
    referred = sorted({normalize(ref) for ref in refs if not _TITLED.match(ref)})
    if not referred:
        return ""
    shown = "\0".join(f"{label}\0{labels.get(label, '')}" for label in referred)
    return hashlib.sha256(shown.encode()).hexdigest()
