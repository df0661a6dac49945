"""Helpers shared by the format parsers: slugs, whitespace, and building ``Section``s."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from docsage.types import Block, Section, SectionKind

_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Collapse runs of whitespace to one space: prose reads the same, indexes smaller."""
    return _SPACE.sub(" ", text).strip()


def github_slug(title: str) -> str:
    """The anchor GitHub gives a heading (github-slugger without the de-duplication).

    Lowercase, drop every character that is not a letter, digit, mark, space, ``-`` or ``_``,
    then turn each space into ``-`` (runs are not collapsed, as on GitHub).
    """
    kept = []
    for char in title.strip().lower():
        category = unicodedata.category(char)[0]
        if char in "-_ " or category in "LNM":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


@dataclass
class Slugger:
    """Hands out GitHub-style slugs, suffixing repeats with ``-1``, ``-2`` like GitHub does."""

    seen: dict[str, int] = field(default_factory=dict)

    def slug(self, title: str) -> str:
        base = github_slug(title)
        slug = base
        while slug in self.seen:
            self.seen[base] += 1
            slug = f"{base}-{self.seen[base]}"
        self.seen[slug] = 0
        return slug


@dataclass
class Heading:
    """One open heading while a parser walks a document top-down."""

    level: int
    title: str
    anchor: str


@dataclass
class HeadingStack:
    """Tracks the open headings so each section knows its ``heading_path``."""

    open: list[Heading] = field(default_factory=list)

    def push(self, heading: Heading) -> tuple[str, ...]:
        while self.open and self.open[-1].level >= heading.level:
            self.open.pop()
        self.open.append(heading)
        return self.path()

    def path(self) -> tuple[str, ...]:
        return tuple(h.title for h in self.open)


def make_section(
    *,
    title: str,
    anchor: str,
    heading_path: tuple[str, ...],
    blocks: Iterable[Block],
    kind: SectionKind = "section",
) -> Section | None:
    """A ``Section``, or ``None`` for one with neither blocks nor title (nothing to keep)."""
    kept = tuple(b for b in blocks if b.text.strip())
    if not kept and not title:
        return None
    return Section(title=title, anchor=anchor, heading_path=heading_path, blocks=kept, kind=kind)


def last_nonblank(lines: list[str], start: int, end: int) -> int:
    """The last 1-based line in ``start..end`` that is not blank (``start`` if all are)."""
    while end > start and not lines[end - 1].strip():
        end -= 1
    return end
