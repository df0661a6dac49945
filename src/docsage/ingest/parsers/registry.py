"""Which parser reads which file, keyed by suffix (or by name for ``README``-style files)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from docsage.ingest.parsers import html, jsonl, markdown, python, rst, text
from docsage.types import Section

Parser = Callable[[str], list[Section]]

PARSERS: dict[str, Parser] = {
    ".md": markdown.parse,
    ".markdown": markdown.parse,
    ".mdx": markdown.parse_mdx,
    ".rst": rst.parse,
    ".rst.txt": rst.parse,
    ".html": html.parse,
    ".htm": html.parse,
    ".txt": text.parse,
    ".text": text.parse,
    ".py": python.parse,
    ".pyi": python.parse,
    ".jsonl": jsonl.parse,
}

# Extension-less files that are plain text by convention.
PLAIN_NAMES = frozenset(
    {
        "README",
        "LICENSE",
        "LICENCE",
        "COPYING",
        "NOTICE",
        "AUTHORS",
        "CHANGELOG",
        "CHANGES",
        "CONTRIBUTING",
        "INSTALL",
        "HISTORY",
        "NEWS",
        "TODO",
    }
)


def parser_for(path: str) -> Parser | None:
    """The parser for ``path``, or ``None`` when docsage does not read that kind of file."""
    name = PurePath(path).name
    lowered = name.lower()
    for suffix in _suffixes(lowered):
        if suffix in PARSERS:
            return PARSERS[suffix]
    if "." not in name and name.upper() in PLAIN_NAMES:
        return text.parse
    return None


def _suffixes(name: str) -> list[str]:
    """Longest first: ``a.rst.txt`` -> ``[".rst.txt", ".txt"]``."""
    parts = name.split(".")[1:]
    return ["." + ".".join(parts[i:]) for i in range(len(parts))]
