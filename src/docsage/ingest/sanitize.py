"""What ingest removes from a file before parsing it: text a reader cannot see, and markup
that could run. Pure functions; ``ingest/pipeline.py`` calls :func:`sanitize` once per file
and counts what it removed in the ``IngestReport``.

- Every format: invisible and bidi control characters (``docsage.untrusted.strip_invisible``).
- Markdown and HTML: HTML comments, ``<script>`` and ``<style>`` elements with their contents,
  elements hidden from the reader (the ``hidden`` attribute, ``display: none`` or
  ``visibility: hidden`` inline; up to the first closing tag of the same name, so a hidden
  element nested in one of its own kind is cut short), and event-handler attributes
  (``onclick=...``). The HTML parser already leaves all of them
  out of a page's text; the Markdown parser kept the contents of a ``<script>`` block as
  prose, and a comment could hide an instruction from the reader of the rendered page.
  In Markdown, fenced code blocks and inline code spans are left alone (a page may document
  ``<script src=...>`` as an example), and every removal keeps its newlines, so the parser's
  line numbers stay true.
- reST comments and ``raw`` directives are already skipped by its parser (``_SKIPPED``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docsage.untrusted import strip_invisible

MARKUP_SUFFIXES = (".md", ".markdown", ".mdx", ".html", ".htm")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_ELEMENTS = (
    r"(?P<comment><!--.*?(?:-->|\Z))"
    r"|(?P<element><(?P<name>script|style)\b[^>]*>.*?(?:</(?P=name)\s*>|\Z))"
    r"|(?P<hidden><(?P<hname>[A-Za-z][\w-]*)\b[^<>]*?(?:\shidden(?=[\s=/>])|display\s*:\s*none"
    r"|visibility\s*:\s*hidden)[^<>]*>.*?</(?P=hname)\s*>)"
    r"|(?P<tag><[A-Za-z][\w:-]*\b[^<>]*>)"
)
_HTML_MARKUP = re.compile(_ELEMENTS, re.S | re.I)
_MARKDOWN_MARKUP = re.compile(r"(?P<code>(`+)(?:(?!\2).)+?\2)|" + _ELEMENTS, re.S | re.I)
_HANDLER = re.compile(r"""\s+on[a-z]+\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)


@dataclass(frozen=True, kw_only=True, slots=True)
class Sanitized:
    text: str
    invisible: int = 0
    """Invisible and bidi control characters removed."""
    markup: int = 0
    """HTML comments, script, style and hidden elements and event-handler attributes removed."""


def sanitize(source: str, text: str) -> Sanitized:
    """``text`` of the file ``source`` with invisible characters and, for Markdown and
    HTML, executable or hidden markup removed (see the module docstring)."""
    text, invisible = strip_invisible(text)
    if not source.lower().endswith(MARKUP_SUFFIXES):
        return Sanitized(text=text, invisible=invisible)
    if source.lower().endswith((".html", ".htm")):
        text, markup = strip_markup(text)
    else:
        text, markup = strip_markdown_markup(text)
    return Sanitized(text=text, invisible=invisible, markup=markup)


def strip_markup(text: str, *, code_spans: bool = False) -> tuple[str, int]:
    """Comments, script and style elements and event handlers out of ``text``, newlines
    kept; and how many were removed. ``code_spans``: Markdown's backtick spans are kept."""
    removed = 0
    pattern = _MARKDOWN_MARKUP if code_spans else _HTML_MARKUP

    def replace(match: re.Match[str]) -> str:
        nonlocal removed
        if code_spans and match.group("code"):
            return match.group(0)
        if match.group("tag"):
            tag, handlers = _HANDLER.subn("", match.group(0))
            removed += handlers
            return tag
        removed += 1
        return "\n" * match.group(0).count("\n")

    return pattern.sub(replace, text), removed


def strip_markdown_markup(text: str) -> tuple[str, int]:
    """:func:`strip_markup` on the parts of a Markdown text outside fenced code blocks."""
    out: list[str] = []
    removed = 0
    for part, code in _fenced_parts(text):
        if not code:
            part, count = strip_markup(part, code_spans=True)
            removed += count
        out.append(part)
    return "".join(out), removed


def _fenced_parts(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (part, is_fenced_code) runs of whole lines, in order."""
    parts: list[tuple[str, bool]] = []
    current: list[str] = []
    fence = ""
    for line in text.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if not fence and opened:
            parts.append(("".join(current), False))
            current, fence = [line], opened.group(1)
            continue
        current.append(line)
        if fence and line.strip().startswith(fence[0] * len(fence)) and len(current) > 1:
            parts.append(("".join(current), True))
            current, fence = [], ""
    parts.append(("".join(current), bool(fence)))
    return [p for p in parts if p[0]]
