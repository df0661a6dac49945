"""Sections to chunks: pack whole blocks up to a size budget, never splitting a block unless
one block alone is larger than the hard limit (then at line boundaries, and marked)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from docsage.types import API_KINDS, Block, Chunk, Section


@dataclass(frozen=True, kw_only=True, slots=True)
class ChunkingPolicy:
    """Sizes in characters; all-MiniLM-L6-v2 reads 256 word pieces, about 1,000 characters."""

    target_chars: int = 1000
    hard_max_chars: int = 4000


_FENCE_LINE = re.compile(r"^`{3,}\n|\n`{3,}$|(?<=\n\n)`{3,}\n|\n`{3,}(?=\n\n)")
"""The fence lines ``block_text`` adds around a code block, and the newline that joins each."""


def block_text(block: Block) -> str:
    """A block as it reads in a chunk: code inside a Markdown fence, so that whoever reads the
    chunk (the answerer, an MCP client, an agent) can tell the docs' example from prose.

    The fence is longer than any run of backticks inside, so the code cannot close it early.
    """
    if block.kind != "code" or not block.text.strip():
        return block.text
    longest = max((len(run) for run in re.findall(r"`+", block.text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{block.text}\n{fence}"


def embed_text(title_path: Sequence[str], text: str) -> str:
    """What the embedder sees: the two innermost headings, then the chunk's text without the
    fence lines around its code.

    The heading carries the API name or topic that the body often never repeats. The fences
    are left out so that a chunk reads to the embedder (and hashes, through ``text_hash``) as
    it did before code was fenced: the stored vectors stay valid.
    """
    heading = " > ".join(t for t in title_path[-2:] if t)
    body = _FENCE_LINE.sub("", text).strip()
    return f"{heading}\n{body}" if heading else body


def _split_block(block: Block, limit: int) -> Iterator[Block]:
    lines = block.text.split("\n")
    piece: list[str] = []
    size = 0
    offset = 0
    for index, line in enumerate(lines):
        if piece and size + len(line) + 1 > limit:
            yield _piece(block, piece, offset, len(lines))
            offset = index
            piece, size = [], 0
        piece.append(line[:limit])
        size += len(line) + 1
    if piece:
        yield _piece(block, piece, offset, len(lines))


def _piece(block: Block, lines: list[str], offset: int, total: int) -> Block:
    """Part of a split block. Its own lines are known only when the block's text keeps the
    source's lines one to one (code does; a list or table rewritten as "- term: text" does
    not): otherwise the piece keeps the whole block's range, wider but never wrong."""
    first, last = block.line_start, block.line_end
    if first is not None and last is not None and last - first + 1 == total:
        first, last = first + offset, first + offset + len(lines) - 1
    return Block(text="\n".join(lines), kind=block.kind, line_start=first, line_end=last)


def pack_blocks(blocks: Sequence[Block], policy: ChunkingPolicy) -> list[list[Block]]:
    """Greedy packing of consecutive blocks into groups of about ``target_chars``."""
    groups: list[list[Block]] = []
    current: list[Block] = []
    size = 0
    for block in blocks:
        pieces = (
            list(_split_block(block, policy.target_chars))
            if len(block.text) > policy.hard_max_chars
            else [block]
        )
        for piece in pieces:
            if current and size + len(piece.text) > policy.target_chars:
                groups.append(current)
                current, size = [], 0
            current.append(piece)
            size += len(piece.text) + 2
    if current:
        groups.append(current)
    return groups


def _lines(blocks: Sequence[Block]) -> tuple[int | None, int | None]:
    starts = [b.line_start for b in blocks if b.line_start is not None]
    ends = [b.line_end for b in blocks if b.line_end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lead_split(section: Section) -> list[tuple[Block, ...]]:
    """An API entry's signature and first paragraph form a chunk of their own.

    The first paragraph defines the entry ("Join one or more path segments intelligently");
    embedded together with pages of caveats that follow, it is drowned out, and a question
    phrased like the definition no longer finds it. Other sections stay one run of blocks.
    """
    blocks = section.blocks
    if section.kind not in API_KINDS or len(blocks) < 2:
        return [blocks]
    first_prose = next((i for i, b in enumerate(blocks) if b.kind == "prose"), None)
    if first_prose is None or first_prose == len(blocks) - 1:
        return [blocks]
    return [blocks[: first_prose + 1], blocks[first_prose + 1 :]]


def chunk_sections(
    sections: Sequence[Section], *, collection: str, source: str, policy: ChunkingPolicy
) -> list[Chunk]:
    """Chunks for one source, numbered in document order."""
    chunks: list[Chunk] = []
    for section in sections:
        runs = lead_split(section) if section.blocks else [(Block(text=section.title),)]
        for group in (g for run in runs for g in pack_blocks(run, policy)):
            text = "\n\n".join(block_text(b) for b in group).strip()
            if not text:
                continue
            ordinal = len(chunks)
            text_hash = _sha(embed_text(section.heading_path, text))
            line_start, line_end = _lines(group)
            chunks.append(
                Chunk(
                    id=_sha(f"{collection}\0{source}\0{section.anchor}\0{ordinal}\0{text_hash}")[
                        :24
                    ],
                    collection=collection,
                    source=source,
                    anchor=section.anchor,
                    title=section.title,
                    heading_path=section.heading_path,
                    text=text,
                    kind=section.kind,
                    line_start=line_start,
                    line_end=line_end,
                    ordinal=ordinal,
                    text_hash=text_hash,
                )
            )
    return chunks
