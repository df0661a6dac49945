"""Which parser reads which file: keyed by suffix (``.md``, ``.rst.txt``), longest first, and
by name for ``README``-style files.

``PARSERS`` is a ``docsage.registry.Registry`` of parse functions ``(text: str) ->
list[Section]``: the built-ins below as lazy references (a parser module is imported when a
file of its kind is first read), and a package adds a suffix through the ``docsage.parsers``
entry point group (``".adoc" = "mypkg.asciidoc:parse"``), or overrides one. A reST parser
that also takes a keyword ``labels`` (as the built-in one does) is given the ingest's label ->
section title map (``rst_labels``), for ``:ref:`` to another file; see :func:`with_labels`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import cast

from docsage.registry import Registry
from docsage.types import Section

Parser = Callable[[str], list[Section]]

_MODULE = "docsage.ingest.parsers."
PARSERS: Registry[Parser] = Registry(
    "parser",
    "docsage.parsers",
    {
        ".md": _MODULE + "markdown:parse",
        ".markdown": _MODULE + "markdown:parse",
        ".mdx": _MODULE + "markdown:parse_mdx",
        ".rst": _MODULE + "rst:parse",
        ".rst.txt": _MODULE + "rst:parse",
        ".html": _MODULE + "html:parse",
        ".htm": _MODULE + "html:parse",
        ".txt": _MODULE + "text:parse",
        ".text": _MODULE + "text:parse",
        ".py": _MODULE + "python:parse",
        ".pyi": _MODULE + "python:parse",
        ".jsonl": _MODULE + "jsonl:parse",
    },
)
PLAIN_TEXT = ".txt"
"""The key whose parser reads the extension-less names below."""

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
            return PARSERS.get(suffix)
    if "." not in name and name.upper() in PLAIN_NAMES:
        return PARSERS.get(PLAIN_TEXT)
    return None


def _suffixes(name: str) -> list[str]:
    """Longest first: ``a.rst.txt`` -> ``[".rst.txt", ".txt"]``."""
    parts = name.split(".")[1:]
    return ["." + ".".join(parts[i:]) for i in range(len(parts))]


def with_labels(parser: Parser, labels: Mapping[str, str]) -> Parser:
    """``parser`` given ``labels`` where it takes them (a keyword ``labels``); any other
    parser (a plugin's, say) as it is."""
    if not _takes_labels(parser):
        return parser
    return functools.partial(cast(Callable[..., list[Section]], parser), labels=labels)


@functools.cache
def _takes_labels(parser: Parser) -> bool:
    try:
        return "labels" in inspect.signature(parser).parameters
    except (TypeError, ValueError):  # a callable with no signature Python can read
        return False
