"""Plain text: one section, one prose block per blank-line-separated paragraph."""

from __future__ import annotations

from docsage.ingest.parsers._common import make_section
from docsage.types import Block, Section

_MAX_TITLE = 80


def parse(text: str) -> list[Section]:
    """One ``text`` section; its title is the first line when that line is short."""
    lines = text.splitlines()
    blocks = _paragraphs(lines)
    if not blocks:
        return []
    first = lines[blocks[0].line_start - 1].strip() if blocks[0].line_start else ""
    title = first if len(first) <= _MAX_TITLE else ""
    section = make_section(
        title=title, anchor="", heading_path=(title,) if title else (), blocks=blocks, kind="text"
    )
    return [section] if section else []


def _paragraphs(lines: list[str]) -> list[Block]:
    blocks: list[Block] = []
    start: int | None = None
    for number, line in enumerate([*lines, ""], start=1):
        if line.strip() and start is None:
            start = number
        elif not line.strip() and start is not None:
            body = "\n".join(lines[start - 1 : number - 1])
            blocks.append(Block(text=body, line_start=start, line_end=number - 1))
            start = None
    return blocks
