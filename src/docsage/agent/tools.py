"""The agent's tools over the index: typed functions whose JSON schema is built from their
signature and docstring (the first paragraph describes the tool, ``Args:`` lines describe
its parameters).

Every passage a tool shows gets a source number (``[3]``) that stays the same for the whole
run; the final answer may cite only those numbers, and is checked against exactly that text.
A tool that is called wrongly raises ``ToolError``; the loop hands its message back to the
model as the observation instead of failing the run.

Tools read only the caller's collection: no tool takes a collection, and every store call
passes ``ctx.collection``. With ``ctx.harden`` (the default) arguments are checked as well:
an argument the tool does not have (``collection``...) is refused, and so is a ref or path
prefix that is a URL, absolute, climbs out with ``..`` or lies outside the caller's
``path_prefix``; the passages shown have their instruction-like lines withheld
(``docsage.untrusted``).
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from docsage.answer.prompt import Source, header
from docsage.errors import DocsageError
from docsage.ports import IndexReader
from docsage.ports.chat import ToolSpec
from docsage.retrieve import Retriever, SearchOptions
from docsage.types import API_KINDS, Chunk
from docsage.untrusted import withhold_instructions

MAX_PASSAGE_CHARS = 1500
MAX_SOURCES_SCANNED = 2000


class ToolError(DocsageError):
    """A tool was called wrongly; the message goes back to the model as the observation."""


@dataclass
class ToolContext:
    """What tools work over, and the passages seen so far (numbered in order of first
    sight)."""

    store: IndexReader
    retriever: Retriever
    collection: str
    path_prefix: str = ""
    sources: dict[int, Source] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    harden: bool = True
    """Check arguments and withhold instruction-like lines (see the module docstring)."""
    withhold: bool = True
    """With ``harden``: withhold instruction-like lines (off only for measuring)."""
    withheld: int = 0
    """Instruction-like lines withheld from the model so far."""

    def guard(self, text: str) -> str:
        """``text`` as the model may see it: instruction-like lines withheld (counted)."""
        if not (self.harden and self.withhold):
            return text
        text, withheld = withhold_instructions(text)
        self.withheld += withheld
        return text

    def register(self, chunk: Chunk, shown: str) -> int:
        """The chunk's source number; ``shown`` is (part of) what the model saw of it."""
        number = self.numbers.setdefault(chunk.id, len(self.numbers) + 1)
        known = self.sources.get(number)
        if known is None or len(known.text) < len(shown):
            self.sources[number] = Source(number=number, chunk=chunk, text=shown)
        return number

    def show(self, chunk: Chunk) -> str:
        """The chunk as the model sees it, numbered; remembered as a citable source."""
        shown = self.guard(chunk.text[:MAX_PASSAGE_CHARS])
        number = self.register(chunk, shown)
        lines = f" (lines {chunk.line_start}-{chunk.line_end})" if chunk.lines else ""
        return f"{header(number, chunk)}{lines}\n{shown}"


# -- argument checks ---------------------------------------------------------------------------

_SCHEME = re.compile(r"^[A-Za-z][\w+.-]*:")


def check_path(ctx: ToolContext, path: str, what: str) -> None:
    """Refuse a ref or prefix that could reach outside the caller's collection or prefix."""
    prefix = ctx.path_prefix
    problem = _path_problem(path, prefix, ref=what == "ref") if ctx.harden else ""
    if problem:
        under = f" under {ctx.path_prefix!r}" if ctx.path_prefix else ""
        raise ToolError(
            f"{what} {path!r} is {problem}: tools read only sources of collection "
            f"{ctx.collection!r}{under}, as search_docs and list_sources show them"
        )


def _path_problem(path: str, prefix: str, *, ref: bool) -> str:
    if _SCHEME.match(path) or "//" in path:
        return "a URL or another collection's name"
    if path.startswith(("/", "\\", "~")):
        return "an absolute path"
    if ".." in re.split(r"[/\\]", path):
        return "a path that climbs out with '..'"
    inside = path.startswith(prefix) if ref else _within(path, prefix)
    if not inside:
        return "outside your path prefix"
    return ""


def _within(path: str, prefix: str) -> bool:
    """A listing prefix is within the caller's when it narrows it or is a parent of it
    (a parent then lists only under the caller's prefix, see ``_sources``)."""
    return not prefix or not path or path.startswith(prefix) or prefix.startswith(path)


# -- the tools ---------------------------------------------------------------------------------


def search_docs(ctx: ToolContext, query: str, k: int = 5) -> str:
    """Search the docs (keywords and meaning) and show the best passages, numbered.

    Args:
        query: what to look for, in the words the docs would use.
        k: how many passages to show, 1 to 10.
    """
    if not 1 <= k <= 10:
        raise ToolError("k must be between 1 and 10")
    options = SearchOptions(k=k, path_prefix=ctx.path_prefix)
    hits = ctx.retriever.search(query, ctx.collection, options).hits
    if not hits:
        return f"No passages match {query!r}."
    return "\n\n".join(ctx.show(h.chunk) for h in hits)


def _parse_lines(lines: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", lines)
    if match is None:
        raise ToolError(f"lines must look like '120-160', not {lines!r}")
    return int(match.group(1)), int(match.group(2))


def _target(chunks: list[Chunk], anchor: str, lines: str) -> list[int]:
    if lines:
        start, end = _parse_lines(lines)
        return [
            i for i, c in enumerate(chunks) if c.lines and c.lines[0] <= end and c.lines[1] >= start
        ]
    if anchor:
        return [i for i, c in enumerate(chunks) if c.anchor == anchor]
    return [0] if chunks else []


def open_section(ctx: ToolContext, ref: str, lines: str = "", neighbours: int = 1) -> str:
    """Open a section of a source in full, with the sections around it.

    Args:
        ref: 'source#anchor' as shown in search results, or just 'source'.
        lines: optional line range 'START-END' inside the source, instead of an anchor.
        neighbours: how many sections before and after to show as well, 0 to 3.
    """
    if not 0 <= neighbours <= 3:
        raise ToolError("neighbours must be between 0 and 3")
    source, _, anchor = ref.partition("#")
    check_path(ctx, source, "ref")
    chunks = ctx.store.chunks(ctx.collection, source)
    if not chunks:
        raise ToolError(f"no source {source!r}; use list_sources or search_docs to find one")
    hits = _target(chunks, anchor, lines)
    if not hits:
        what = f"lines {lines}" if lines else f"anchor {anchor!r}"
        raise ToolError(
            f"{source} has no section at {what}; sections: "
            + ", ".join(sorted({c.anchor for c in chunks})[:20])
        )
    lo, hi = max(min(hits) - neighbours, 0), min(max(hits) + neighbours, len(chunks) - 1)
    return "\n\n".join(ctx.show(c) for c in chunks[lo : hi + 1])


def _sources(ctx: ToolContext, prefix: str) -> list[str]:
    check_path(ctx, prefix, "prefix")
    wanted = prefix or ctx.path_prefix
    if ctx.harden and len(wanted) < len(ctx.path_prefix):
        wanted = ctx.path_prefix  # a parent of the caller's prefix reads only under it
    return sorted(s for s in ctx.store.documents(ctx.collection) if s.startswith(wanted))


def grep_sources(
    ctx: ToolContext, pattern: str, path_prefix: str = "", max_matches: int = 20
) -> str:
    """Find lines matching a regular expression (Python syntax) in the ingested sources.

    Args:
        pattern: the regular expression, e.g. 'def connect\\(' or 'timeout'.
        path_prefix: only sources whose path starts with this.
        max_matches: stop after this many matching lines, 1 to 50.
    """
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ToolError(f"bad regular expression {pattern!r}: {exc}") from exc
    if not 1 <= max_matches <= 50:
        raise ToolError("max_matches must be between 1 and 50")
    found: list[str] = []
    for source in _sources(ctx, path_prefix)[:MAX_SOURCES_SCANNED]:
        for chunk in ctx.store.chunks(ctx.collection, source):
            lines = [line for line in ctx.guard(chunk.text).splitlines() if regex.search(line)]
            if lines:
                number = ctx.register(chunk, "\n".join(lines))
                found += [f"[{number}] {chunk.ref}: {line.strip()[:200]}" for line in lines]
            if len(found) >= max_matches:
                return "\n".join(found[:max_matches]) + "\n(more matches left out)"
    return "\n".join(found) or f"No line matches {pattern!r}."


def list_sources(
    ctx: ToolContext, prefix: str = "", api_only: bool = False, limit: int = 50
) -> str:
    """List the ingested sources, or the API entries (functions, classes) they define.

    Args:
        prefix: only sources whose path starts with this.
        api_only: list API entries ('source#anchor  title') instead of source files.
        limit: at most this many lines, 1 to 200.
    """
    if not 1 <= limit <= 200:
        raise ToolError("limit must be between 1 and 200")
    sources = _sources(ctx, prefix)
    if not api_only:
        more = f"\n({len(sources) - limit} more)" if len(sources) > limit else ""
        return "\n".join(sources[:limit]) + more or "No sources under that prefix."
    entries: list[str] = []
    for source in sources[:MAX_SOURCES_SCANNED]:
        entries += [
            f"{c.ref}  {c.title}"
            for c in ctx.store.chunks(ctx.collection, source)
            if c.kind in API_KINDS
        ]
        if len(entries) >= limit:
            break
    return "\n".join(entries[:limit]) or "No API entries under that prefix."


# -- schema from signature ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Tool:
    name: str
    description: str
    arguments: type[BaseModel]
    fn: Callable[..., str]

    @property
    def spec(self) -> ToolSpec:
        schema = self.arguments.model_json_schema()
        schema.pop("title", None)
        for prop in schema.get("properties", {}).values():
            prop.pop("title", None)
        return ToolSpec(name=self.name, description=self.description, parameters=schema)

    def __call__(self, ctx: ToolContext, arguments: str) -> str:
        """Run with the model's JSON arguments; a bad call raises ToolError."""
        try:
            raw = json.loads(arguments or "{}")
            args = self.arguments.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            raise ToolError(f"bad arguments for {self.name}: {exc}") from exc
        unknown = sorted(set(raw) - set(self.arguments.model_fields))
        if unknown and ctx.harden:
            raise ToolError(
                f"{self.name} has no argument {', '.join(map(repr, unknown))}; its arguments: "
                f"{', '.join(self.arguments.model_fields)} (tools read only collection "
                f"{ctx.collection!r})"
            )
        return self.fn(ctx, **args.model_dump())


def _doc_params(doc: str) -> dict[str, str]:
    args = doc.split("Args:", 1)[1] if "Args:" in doc else ""
    pairs = re.findall(r"^\s+(\w+):\s*(.+(?:\n\s{8,}.+)*)", args, re.M)
    return {name: " ".join(text.split()) for name, text in pairs}


def tool(fn: Callable[..., str]) -> Tool:
    """A ``Tool`` from a typed function whose first parameter is the ``ToolContext``."""
    doc = inspect.getdoc(fn) or ""
    hints = typing.get_type_hints(fn)
    described = _doc_params(doc)
    fields: dict[str, Any] = {}
    for name, param in list(inspect.signature(fn).parameters.items())[1:]:
        default = ... if param.default is inspect.Parameter.empty else param.default
        fields[name] = (hints[name], Field(default, description=described.get(name, "")))
    model = create_model(f"{fn.__name__}_args", **fields)
    return Tool(name=fn.__name__, description=doc.split("\n\n")[0], arguments=model, fn=fn)


DEFAULT_TOOLS: tuple[Tool, ...] = tuple(
    tool(f) for f in (search_docs, open_section, grep_sources, list_sources)
)
