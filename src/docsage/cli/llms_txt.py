"""llms.txt (https://llmstxt.org) for one collection: ``llms.txt``, an index of its
documents as Markdown link lists under ``##`` headings, and ``llms-full.txt``, the full
text of every section. Pure functions over the collection's chunks."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from docsage.types import Chunk

NOTE_CHARS = 160
ROOT_GROUP = "Docs"


def link(source: str, base_url: str, anchor: str = "") -> str:
    """The address of a source: under ``base_url`` if given, else its path."""
    path = quote(source, safe="/")
    url = f"{base_url.rstrip('/')}/{path}" if base_url else path
    return f"{url}#{quote(anchor, safe='')}" if anchor else url


def note(chunks: Sequence[Chunk]) -> str:
    """The document's first sentence of prose (without Markdown marks), shortened."""
    for chunk in chunks:
        for line in chunk.text.splitlines():
            text = re.sub(r"[`*_\[\]]", "", line).strip()
            headings = {chunk.title, *chunk.heading_path}
            if text and text not in headings and not text.startswith(("#", "```", "|", ">", "-")):
                first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
                return first if len(first) <= NOTE_CHARS else first[: NOTE_CHARS - 1] + "…"
    return ""


def title(chunks: Sequence[Chunk], source: str) -> str:
    return chunks[0].title or source if chunks else source


def group(source: str) -> str:
    """The ``##`` section a source is listed under: its top folder, or ROOT_GROUP."""
    head, sep, _ = source.partition("/")
    return head if sep else ROOT_GROUP


def summary(name: str, docs: Mapping[str, Sequence[Chunk]]) -> str:
    sections = sum(len({c.anchor for c in chunks}) for chunks in docs.values())
    return f"The {name} documentation: {len(docs)} documents, {sections} sections."


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def index(name: str, docs: Mapping[str, Sequence[Chunk]], base_url: str, heading: str) -> str:
    """llms.txt: ``# heading``, ``> summary``, then a link list per ``##`` group."""
    lines = [f"# {_one_line(heading)}", "", f"> {summary(name, docs)}", ""]
    groups: dict[str, list[str]] = {}
    for source in sorted(docs, key=lambda s: (group(s) != ROOT_GROUP, s)):
        chunks = docs[source]
        about = note(chunks)
        item = f"- [{_one_line(title(chunks, source))}]({link(source, base_url)})"
        groups.setdefault(group(source), []).append(f"{item}: {about}" if about else item)
    for name_, items in groups.items():
        lines += [f"## {name_}", "", *items, ""]
    return "\n".join(lines)


def full(name: str, docs: Mapping[str, Sequence[Chunk]], base_url: str, heading: str) -> str:
    """llms-full.txt: the same header, then every document's sections in order."""
    parts = [f"# {_one_line(heading)}", "", f"> {summary(name, docs)}", ""]
    for source in sorted(docs):
        chunks = docs[source]
        parts += [f"## {_one_line(title(chunks, source))}", "", f"Source: {link(source, base_url)}"]
        last = None
        for chunk in chunks:
            if chunk.anchor != last and chunk.heading_path[1:]:
                parts += ["", f"### {_one_line(' > '.join(chunk.heading_path[1:]))}"]
            last = chunk.anchor
            if chunk.text.strip() not in {chunk.title, *chunk.heading_path}:  # a bare heading
                parts += ["", chunk.text.strip()]
        parts.append("")
    return "\n".join(parts) + "\n"
