"""JSON Lines records in the BEIR corpus shape: ``{"_id"|"id", "title", "text"}`` per line."""

from __future__ import annotations

import json
from typing import Any

from docsage.errors import ParseError
from docsage.ingest.parsers._common import make_section
from docsage.types import Block, Section


def parse(text: str) -> list[Section]:
    """One ``record`` section per line; bad lines are skipped unless every line is bad."""
    sections: list[Section] = []
    bad = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        section = _record(line, number)
        if section is None:
            bad += 1
        else:
            sections.append(section)
    if bad and not sections:
        raise ParseError(f"none of the {bad} non-blank lines is a JSON record with an id")
    return sections


def _record(line: str, number: int) -> Section | None:
    try:
        record: Any = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    ident = record.get("_id", record.get("id"))
    if ident is None:
        return None
    title = _string(record.get("title"))
    body = _string(record.get("text"))
    block = Block(text=body, line_start=number, line_end=number)
    return make_section(
        title=title,
        anchor=str(ident),
        heading_path=(title,) if title else (),
        blocks=[block],
        kind="record",
    )


def _string(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)
