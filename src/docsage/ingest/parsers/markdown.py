"""Markdown (CommonMark + GFM tables) and MDX, via markdown-it-py's token stream.

Tokens carry ``.map`` line ranges, so blocks get exact source lines. Front matter and MDX
noise are blanked rather than removed so that those line numbers stay true.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.token import Token

from docsage.errors import ParseError
from docsage.ingest.parsers._common import (
    Heading,
    HeadingStack,
    Slugger,
    last_nonblank,
    make_section,
    squash,
)
from docsage.types import Block, BlockKind, Section

_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_FRONT_TITLE = re.compile(r"""^title:\s*["']?(.*?)["']?\s*$""")
_JSX_SELF_CLOSING = re.compile(r"^\s*<[A-Z][\w.]*\b.*/>\s*$")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def parse(text: str) -> list[Section]:
    """Sections of a Markdown document, one per heading."""
    lines = text.splitlines()
    title = _blank_front_matter(lines)
    return _parse_lines(lines, title)


def parse_mdx(text: str) -> list[Section]:
    """Sections of an MDX document: Markdown with import/export and JSX lines dropped."""
    lines = text.splitlines()
    title = _blank_front_matter(lines)
    _blank_mdx_noise(lines)
    return _parse_lines(lines, title)


def _parse_lines(lines: list[str], doc_title: str) -> list[Section]:
    try:
        tokens = MarkdownIt("commonmark").enable("table").parse("\n".join(lines))
    except Exception as error:  # markdown-it is lenient; anything raised is a bug in input
        raise ParseError(f"markdown could not be tokenised: {error}") from error
    return _Builder(lines, doc_title).build(tokens)


def _blank_front_matter(lines: list[str]) -> str:
    """Blank a leading YAML ``---`` block in place; return its ``title:`` value or ""."""
    if not lines or lines[0].strip() != "---":
        return ""
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return ""  # no closing fence: it was a thematic break, not front matter
    title = ""
    for i in range(end + 1):
        match = _FRONT_TITLE.match(lines[i])
        if match and not title:
            title = match.group(1)
        lines[i] = ""
    return title


def _blank_mdx_noise(lines: list[str]) -> None:
    """Blank top-level ``import``/``export`` statements and self-closing JSX lines."""
    in_fence = False
    depth = 0
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            continue
        starts = line.startswith(("import ", "export "))
        if depth > 0 or starts:
            depth = max(depth + line.count("{") - line.count("}"), 0)
            lines[i] = ""
        elif _JSX_SELF_CLOSING.match(line):
            lines[i] = ""


class _Builder:
    """Walks the flat token list once, opening a new section at each heading."""

    def __init__(self, lines: list[str], doc_title: str) -> None:
        self.lines = lines
        self.sections: list[Section] = []
        self.stack = HeadingStack()
        self.slugger = Slugger()
        self.title = doc_title
        self.anchor = ""
        self.path: tuple[str, ...] = (doc_title,) if doc_title else ()
        self.blocks: list[Block] = []

    def build(self, tokens: list[Token]) -> list[Section]:
        i = 0
        while i < len(tokens):
            i = self._step(tokens, i)
        self._close()
        return self.sections

    def _step(self, tokens: list[Token], i: int) -> int:
        token = tokens[i]
        if token.type == "heading_open":
            self._heading(token, tokens[i + 1])
            return i + 3
        if token.type in ("bullet_list_open", "ordered_list_open", "table_open"):
            end = _matching_close(tokens, i)
            render = _table_text if token.type == "table_open" else _list_text
            self._add(
                token, render(tokens[i : end + 1]), "table" if "table" in token.type else "list"
            )
            return end + 1
        if token.type == "paragraph_open":
            self._add(token, _inline_text(tokens[i + 1]), "prose")
            return i + 3
        if token.type in ("fence", "code_block"):
            self._add(token, token.content.rstrip("\n"), "code")
        elif token.type == "html_block":
            self._add(token, squash(_TAG.sub(" ", token.content)), "prose")
        return i + 1

    def _heading(self, token: Token, inline: Token) -> None:
        self._close()
        self.title = _inline_text(inline)
        self.anchor = self.slugger.slug(self.title)
        self.path = self.stack.push(Heading(int(token.tag[1]), self.title, self.anchor))

    def _add(self, token: Token, text: str, kind: BlockKind) -> None:
        start, end = (token.map or (0, 0))[0] + 1, (token.map or (0, 0))[1]
        end = last_nonblank(self.lines, start, end)
        self.blocks.append(Block(text=text, kind=kind, line_start=start, line_end=end))

    def _close(self) -> None:
        section = make_section(
            title=self.title, anchor=self.anchor, heading_path=self.path, blocks=self.blocks
        )
        if section is not None:
            self.sections.append(section)
        self.blocks = []


def _matching_close(tokens: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _inline_text(token: Token) -> str:
    """Plain text of an inline token: emphasis and link markup dropped, link text kept."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return squash("".join(parts))


def _list_text(tokens: list[Token]) -> str:
    """One line per list item paragraph, indented by nesting, bulleted like the source."""
    lines: list[str] = []
    depth = 0
    fresh_item = False
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "list_item_open":
            fresh_item = True
        elif token.type == "inline":
            bullet = "- " if fresh_item else "  "
            lines.append("  " * (depth - 1) + bullet + _inline_text(token))
            fresh_item = False
        elif token.type in ("fence", "code_block"):
            lines.append(token.content.rstrip("\n"))
    return "\n".join(lines)


def _table_text(tokens: list[Token]) -> str:
    """Rows as `` | ``-separated cells, header first."""
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(_inline_text(token))
    return "\n".join(" | ".join(row) for row in rows)
