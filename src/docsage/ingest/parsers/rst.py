"""reStructuredText, Sphinx sources included, via the docutils doctree.

Sphinx directives and roles get lenient stand-ins (see ``_rst_sphinx``); API directives such as
``.. function::`` become their own ``api`` sections anchored at the qualified name Sphinx would
give them. docutils records few reliable line numbers, so ``_Locator`` finds each block's first
line in the source, moving forward through the file as the walk does.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree

from docsage.errors import ParseError
from docsage.ingest.parsers._common import Slugger, github_slug, make_section, squash
from docsage.ingest.parsers._rst_sphinx import (
    api_entry,
    label_ref,
    label_title,
    module_marker,
    register_for,
)
from docsage.ingest.parsers.rst_labels import normalize
from docsage.types import Block, BlockKind, Section

_PY_NAME = re.compile(r"^\s*(?:async\s+)?([\w.]*\.)?(\w+)")
_C_NAME = re.compile(r"(\w+)\s*(?:\(|$)")
_SKIPPED = (
    nodes.comment,
    nodes.target,
    nodes.system_message,
    nodes.substitution_definition,
    nodes.raw,
    nodes.pending,
    nodes.transition,
    nodes.meta,
    nodes.decoration,
)
_LISTS = (
    nodes.bullet_list,
    nodes.enumerated_list,
    nodes.definition_list,
    nodes.field_list,
    nodes.option_list,
)
_SIGNATURE_PREFIX = {
    "class": "class ",
    "exception": "exception ",
    "decorator": "@",
    "decoratormethod": "@",
}
_CLASSLIKE = frozenset({"class", "exception"})


def parse(text: str, *, labels: Mapping[str, str] | None = None) -> list[Section]:
    """Sections of a reST document: one per heading and one per API description.

    ``labels`` (normalized label -> section title, ``rst_labels.label_titles``) are the
    other files' sections, for a ``:ref:`` to a label this document does not define."""
    if not text.strip():
        return []
    register_for(text)
    try:
        doctree = publish_doctree(text, settings_overrides=_settings())
    except Exception as error:  # docutils raises many types; any of them means "unreadable"
        raise ParseError(f"reStructuredText could not be parsed: {error}") from error
    _resolve_labels(doctree, labels or {})
    return _Walker(text.splitlines()).run(doctree)


def _resolve_labels(doctree: nodes.document, labels: Mapping[str, str]) -> None:
    """Show each ``:ref:`label``` as its section's title, as Sphinx does: the section in
    this document that ``.. _label:`` before a heading names, else the one in ``labels``."""
    titles = {
        normalize(str(name)): section[0].astext()
        for section in doctree.findall(nodes.section)
        if section.children and isinstance(section[0], nodes.title)
        for name in section["names"]
    }
    for ref in list(doctree.findall(label_ref)):
        shown = label_title(str(ref["label"]), titles, labels)
        ref.replace_self(nodes.literal(ref.rawsource, shown))


def _settings() -> dict[str, Any]:
    """Quiet, self-contained settings: no config files, no file access, never halt."""
    return {
        "_disable_config": True,
        "report_level": 5,
        "halt_level": 5,
        "warning_stream": io.StringIO(),
        "file_insertion_enabled": False,
        "raw_enabled": False,
        "doctitle_xform": False,
        "sectsubtitle_xform": False,
        "docinfo_xform": False,
        "syntax_highlight": "none",
        "smart_quotes": False,
        "traceback": True,
        "line_length_limit": 1_000_000,
    }


class _Locator:
    """Finds a block's first line in the source, never moving backwards past earlier blocks."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.cursor = 0

    def span(self, raw: str, hint: int | None) -> tuple[int | None, int | None]:
        body = raw.strip("\n").splitlines()
        needle = next((line.strip() for line in body if line.strip()), "")
        start = self._find(needle, hint)
        return (start, start + len(body) - 1) if start is not None else (None, None)

    def _find(self, needle: str, hint: int | None) -> int | None:
        if hint and 0 < hint <= len(self.lines) and needle in self.lines[hint - 1]:
            self.cursor = max(self.cursor, hint - 1)
            return hint
        for i in range(self.cursor, len(self.lines)):
            if needle in self.lines[i]:
                self.cursor = i
                return i + 1
        return hint


class _Walker:
    """Turns a doctree into sections in document order, tracking module and class context."""

    def __init__(self, lines: list[str]) -> None:
        self.locator = _Locator(lines)
        self.lines = lines
        self.slugger = Slugger()
        self.module = ""
        self.classes: list[str] = []
        self.sections: list[Section | None] = []

    def run(self, doctree: nodes.document) -> list[Section]:
        slot = self._reserve()
        blocks = self._container(doctree, ())
        self.sections[slot] = make_section(title="", anchor="", heading_path=(), blocks=blocks)
        return [s for s in self.sections if s is not None]

    def _reserve(self) -> int:
        """Keep a parent's place so it precedes the children emitted while it is walked."""
        self.sections.append(None)
        return len(self.sections) - 1

    def _container(self, node: nodes.Element, path: tuple[str, ...]) -> list[Block]:
        blocks: list[Block] = []
        for child in node.children:
            if isinstance(child, nodes.section):
                self._section(child, path)
            elif isinstance(child, api_entry):
                self._api(child, path)
            elif isinstance(child, module_marker):
                self.module = str(child["modname"])
            elif isinstance(child, nodes.title) and isinstance(node, nodes.section):
                continue  # the section's own title, already its Section.title
            else:
                blocks += self._blocks(child, path)
        return blocks

    def _section(self, node: nodes.section, parent: tuple[str, ...]) -> None:
        title_node = node.next_node(nodes.title)
        title = squash(title_node.astext()) if title_node else ""
        slug = self.slugger.slug(title)
        anchor = _section_id(node, title) or slug
        path = (*parent, title)
        title_line = self._title_line(title_node, title) if title_node else None
        slot = self._reserve()
        blocks = _or_title(self._container(node, path), title, title_line)
        self.sections[slot] = make_section(
            title=title, anchor=anchor, heading_path=path, blocks=blocks
        )

    def _title_line(self, node: nodes.title, title: str) -> int | None:
        """The title's line, located before the body (whose blocks follow it in the source).
        docutils gives the underline's line; the title text sits just above it."""
        hint = node.line
        if hint and 1 < hint <= len(self.lines) and _is_adornment(self.lines[hint - 1]):
            return self.locator.span(self.lines[hint - 2], hint - 1)[0]
        return self.locator.span(title, hint)[0]

    def _api(self, node: api_entry, parent: tuple[str, ...]) -> None:
        objtype, domain = str(node["objtype"]), str(node["domain"])
        signatures: list[str] = list(node["signatures"])
        title = _SIGNATURE_PREFIX.get(objtype, "") + (signatures[0] if signatures else objtype)
        anchor = self._api_anchor(domain, signatures[0] if signatures else "")
        path = (*parent, title)
        slot = self._reserve()
        extra = (
            [self._code_block("\n".join(signatures[1:]), node["line"])] if signatures[1:] else []
        )
        nested = domain == "py" and objtype in _CLASSLIKE
        if nested:
            self.classes.append(anchor.removeprefix(self.module + ".") if self.module else anchor)
        blocks = _or_title(extra + self._container(node, path), title, node["line"])
        if nested:
            self.classes.pop()
        self.sections[slot] = make_section(
            title=title, anchor=anchor, heading_path=path, blocks=blocks, kind="api"
        )

    def _api_anchor(self, domain: str, signature: str) -> str:
        """The id Sphinx gives the object: module + enclosing class + name for Python."""
        if domain != "py":
            match = _C_NAME.search(signature.split("(")[0] + "(")
            name = match.group(1) if match else github_slug(signature)
            return f"{domain}.{name}" if domain in ("c", "cpp") else github_slug(signature)
        match = _PY_NAME.match(signature)
        prefix, name = (match.group(1) or "", match.group(2)) if match else ("", signature)
        fullname = prefix + name
        if self.classes and not (prefix and prefix.startswith(self.classes[-1] + ".")):
            fullname = f"{self.classes[-1]}.{fullname}"
        return f"{self.module}.{fullname}" if self.module else fullname

    def _blocks(self, node: nodes.Node, path: tuple[str, ...]) -> list[Block]:
        if isinstance(node, _SKIPPED):
            return []
        if isinstance(node, nodes.literal_block | nodes.doctest_block):
            return [self._code_block(node.astext(), node.line)]
        if isinstance(node, nodes.table):
            return [self._spanned(node, _table_text(node), "table")]
        if isinstance(node, _LISTS):
            return [self._spanned(node, _list_text(node), "list")]
        if isinstance(node, nodes.Admonition) and not isinstance(node, nodes.admonition):
            return _labelled(type(node).__name__.title(), self._container(node, path))
        if isinstance(node, nodes.TextElement | nodes.Text):
            return [self._prose(node)]
        if isinstance(node, nodes.Element):
            return self._container(node, path)
        return []

    def _prose(self, node: nodes.Node) -> Block:
        raw = getattr(node, "rawsource", "") or node.astext()
        start, end = self.locator.span(raw, node.line)
        return Block(text=squash(node.astext()), line_start=start, line_end=end)

    def _code_block(self, text: str, hint: int | None) -> Block:
        start, end = self.locator.span(text, hint)
        return Block(text=text, kind="code", line_start=start, line_end=end)

    def _spanned(self, node: nodes.Element, text: str, kind: BlockKind) -> Block:
        """A list or table spans from its first to its last paragraph."""
        spans = [self._prose(p) for p in node.findall(nodes.paragraph)]
        starts = [b.line_start for b in spans if b.line_start]
        ends = [b.line_end for b in spans if b.line_end]
        start, end = min(starts, default=None), max(ends, default=None)
        if kind == "table" and start and end:
            start, end = self._borders(start, end)
        return Block(text=text, kind=kind, line_start=start, line_end=end)

    def _borders(self, start: int, end: int) -> tuple[int, int]:
        """Widen a table's span to the border lines above its first and below its last row."""

        def border(number: int) -> bool:
            return 0 < number <= len(self.lines) and self.lines[number - 1].strip()[:1] in "+="

        return start - border(start - 1), end + border(end + 1)


def _is_adornment(line: str) -> bool:
    """A section underline or overline: one punctuation character repeated."""
    text = line.strip()
    return len(text) >= 2 and len(set(text)) == 1 and not text[0].isalnum()


def _or_title(blocks: list[Block], title: str, line: int | None) -> list[Block]:
    """A section with no body is chunked as its title; give that chunk the title's line."""
    if any(b.text.strip() for b in blocks) or not title or not line:
        return blocks
    return [Block(text=title, line_start=line, line_end=line)]


def _section_id(node: nodes.section, title: str) -> str:
    """The id Sphinx's HTML gives the section: docutils' ``make_id`` of its title, the one in
    the page's URL. A ``.. _label:`` before the heading is a second id there, used by
    ``:ref:``; a title docutils could not make an id of keeps whatever id it has."""
    ids = [str(i) for i in node["ids"]]
    own = nodes.make_id(title)
    return own if own in ids else (ids[0] if ids else "")


def _labelled(label: str, blocks: list[Block]) -> list[Block]:
    if blocks and blocks[0].kind == "prose":
        first = blocks[0]
        return [
            Block(
                text=f"{label}: {first.text}", line_start=first.line_start, line_end=first.line_end
            ),
            *blocks[1:],
        ]
    return blocks


def _table_text(table: nodes.table) -> str:
    rows = []
    for row in table.findall(nodes.row):
        rows.append(" | ".join(squash(entry.astext()) for entry in row.children))
    return "\n".join(rows)


def _list_text(node: nodes.Element) -> str:
    if isinstance(node, nodes.definition_list | nodes.field_list | nodes.option_list):
        items = [_term_line(item) for item in node.children]
    else:
        items = [f"- {squash(item.astext())}" for item in node.children]
    return "\n".join(item for item in items if item.strip())


def _term_line(item: nodes.Node) -> str:
    """``term: definition`` for definition, field and option list items."""
    if not isinstance(item, nodes.Element) or len(item.children) < 2:
        return f"- {squash(item.astext())}"
    head, *rest = item.children
    return f"- {squash(head.astext())}: {squash(' '.join(c.astext() for c in rest))}"
