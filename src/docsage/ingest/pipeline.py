"""Ingest a folder into a collection: walk, read, parse, chunk, commit, then embed.

Text is committed in one transaction (crash-safe: all or nothing). Embedding runs after,
in batches that each commit, over chunks whose text has no vector yet; a killed run resumes
where it stopped and unchanged text is never embedded twice (vectors are keyed by text hash).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from docsage.errors import ParseError, UsageError
from docsage.ingest.chunking import ChunkingPolicy, chunk_sections, embed_text
from docsage.ingest.links import outgoing_links
from docsage.ingest.parsers.registry import parser_for, with_labels
from docsage.ingest.parsers.rst_labels import is_rst, label_titles, refs_digest
from docsage.ingest.sanitize import sanitize
from docsage.ingest.sources import (
    DEFAULT_MAX_BYTES,
    ReadFile,
    SourceFile,
    iter_read,
    read_source,
    walk,
)
from docsage.ports import Embedder, FileUpdate, IndexWriter
from docsage.types import Chunk, Document, FileNote, IngestReport, SkippedFile

# 10: a reST :ref: to another file shows its section title; 9: code fenced in chunk text
PARSER_VERSION = "10"
ProgressFn = Callable[[str, int, int], None]
"""Called as (stage, done, total); stages are "files", "chunks" and "embeddings". A total of
0 means it is not known in advance (chunks: counted as files are parsed)."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass(kw_only=True)
class IngestOptions:
    ignore: Sequence[str] = ()
    use_default_ignores: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES
    chunking: ChunkingPolicy = field(default_factory=ChunkingPolicy)
    embed_batch: int = 256
    embed_seconds: float | None = None  # stop embedding after this long; the rest waits
    max_chunks_per_file: int | None = 2000
    """None: no limit. A generated module would otherwise be tens of thousands of chunks."""
    max_chunks_per_ingest: int | None = 100_000
    """None: no limit."""
    sanitize: bool = True
    """Remove invisible characters and hidden or executable markup (``ingest/sanitize.py``).
    Off only to measure what that does (``benchmarks/injection.py``)."""


@dataclass(kw_only=True)
class _RunState:
    skipped: list[SkippedFile] = field(default_factory=list)
    notes: list[FileNote] = field(default_factory=list)
    ingested: int = 0
    unchanged: int = 0
    chunks_written: int = 0
    invisible_removed: int = 0
    markup_removed: int = 0


def _sanitized(read: ReadFile, state: _RunState) -> ReadFile:
    """``read`` with invisible characters and hidden or executable markup removed; what
    went is counted, and noted per file."""
    clean = sanitize(read.source, read.text)
    state.invisible_removed += clean.invisible
    state.markup_removed += clean.markup
    removed = [
        f"{n} {what}"
        for n, what in ((clean.invisible, "invisible characters"), (clean.markup, "markup items"))
        if n
    ]
    if removed:
        note = f"removed {' and '.join(removed)} (docsage.ingest.sanitize)"
        state.notes.append(FileNote(source=read.source, note=note))
    return replace(read, text=clean.text)


def _rst_texts(files: Sequence[SourceFile], options: IngestOptions) -> Iterator[str]:
    """The reST files' texts as they will be parsed (sanitized where the ingest sanitizes),
    for the label scan (``rst_labels``) before parsing."""
    for file in (f for f in files if is_rst(f.source)):
        read = read_source(file, max_bytes=options.max_bytes, salt="")
        if isinstance(read, ReadFile):
            yield sanitize(read.source, read.text).text if options.sanitize else read.text


def _with_refs(read: ReadFile, labels: Mapping[str, str]) -> ReadFile:
    """``read`` whose hash also covers the titles of the sections its ``:ref:`` roles name,
    so a title changed in another file makes this one parse again."""
    digest = refs_digest(read.text, labels) if is_rst(read.source) else ""
    if not digest:
        return read
    content_hash = hashlib.sha256(f"{read.content_hash}:{digest}".encode()).hexdigest()
    return replace(read, content_hash=content_hash)


def _parse(
    read: ReadFile, collection: str, policy: ChunkingPolicy, labels: Mapping[str, str]
) -> FileUpdate:
    parser = parser_for(read.source)
    if parser is None:
        raise ParseError("unsupported file type")
    if is_rst(read.source):
        parser = with_labels(parser, labels)
    sections = parser(read.text)
    chunks = chunk_sections(sections, collection=collection, source=read.source, policy=policy)
    title = sections[0].heading_path[0] if sections and sections[0].heading_path else ""
    document = Document(
        collection=collection,
        source=read.source,
        content_hash=read.content_hash,
        title=title,
        size=read.size,
    )
    links = outgoing_links(read.source, read.text)
    return FileUpdate(document=document, chunks=chunks, links=links)


def _updates(
    files: Sequence[SourceFile],
    existing: dict[str, str],
    collection: str,
    options: IngestOptions,
    state: _RunState,
    progress: ProgressFn,
) -> Iterator[FileUpdate]:
    salt = PARSER_VERSION
    labels = label_titles(_rst_texts(files, options))
    for done, read in enumerate(iter_read(files, max_bytes=options.max_bytes, salt=salt), 1):
        progress("files", done, len(files))
        if isinstance(read, SkippedFile):
            state.skipped.append(read)
            continue
        read = _with_refs(read, labels)
        if existing.get(read.source) == read.content_hash:
            state.unchanged += 1
            continue
        try:
            clean = _sanitized(read, state) if options.sanitize else read
            update = _parse(clean, collection, options.chunking, labels)
        except ParseError as exc:
            state.skipped.append(SkippedFile(source=read.source, reason=str(exc)))
            continue
        except Exception as exc:
            # A parser bug on one odd file must not cost the whole run; it is reported.
            reason = f"parser failed: {type(exc).__name__}: {exc}"
            state.skipped.append(SkippedFile(source=read.source, reason=reason[:300]))
            continue
        if read.encoding != "utf-8":
            state.notes.append(FileNote(source=read.source, note=f"decoded as {read.encoding}"))
        bounded = _bounded(update, options, state)
        if bounded is None:
            continue
        state.ingested += 1
        state.chunks_written += len(bounded.chunks)
        progress("chunks", state.chunks_written, 0)
        yield bounded


RECORD_SUFFIXES = (".jsonl",)
"""Files that hold one document per record (a corpus export): exempt from the per-file cap."""


def _bounded(update: FileUpdate, options: IngestOptions, state: _RunState) -> FileUpdate | None:
    """``update`` cut to the chunk limits (noted), or ``None`` (skipped) once the ingest's
    budget is spent. A cut document gets a marked hash, so the next ingest parses it again
    (under the limits then in force) instead of keeping the cut copy as "unchanged"."""
    source, chunks = update.document.source, update.chunks
    per_file, per_ingest = options.max_chunks_per_file, options.max_chunks_per_ingest
    if source.endswith(RECORD_SUFFIXES):  # a file of records is many documents in one file:
        per_file = None  # only the ingest's budget bounds it
    room = per_ingest - state.chunks_written if per_ingest is not None else len(chunks)
    if room <= 0:
        reason = f"over the ingest's chunk limit (DOCSAGE_MAX_CHUNKS_PER_INGEST={per_ingest})"
        state.skipped.append(SkippedFile(source=source, reason=reason))
        return None
    keep = min(len(chunks), room, len(chunks) if per_file is None else per_file)
    if keep == len(chunks):
        return update
    limit = "DOCSAGE_MAX_CHUNKS_PER_FILE" if keep == per_file else "DOCSAGE_MAX_CHUNKS_PER_INGEST"
    note = f"cut to its first {keep} of {len(chunks)} chunks ({limit})"
    state.notes.append(FileNote(source=source, note=note))
    document = replace(update.document, content_hash=update.document.content_hash + ":cut")
    return replace(update, document=document, chunks=chunks[:keep])


def ingest_folder(
    store: IndexWriter,
    root: Path,
    collection: str,
    *,
    options: IngestOptions | None = None,
    embedder: Embedder | None = None,
    progress: ProgressFn = _no_progress,
) -> IngestReport:
    """Bring ``collection`` in line with the files under ``root`` and embed what is new."""
    options = options or IngestOptions()
    started = time.perf_counter()
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder; pass the root folder of the docs to ingest")
    files, skipped = walk(
        root, ignore=options.ignore, use_default_ignores=options.use_default_ignores
    )
    # Decide by name before reading: a PNG is "unsupported", not "not UTF-8", and is never read.
    unsupported = [f for f in files if parser_for(f.source) is None]
    files = [f for f in files if parser_for(f.source) is not None]
    skipped += [SkippedFile(source=f.source, reason="unsupported file type") for f in unsupported]
    state = _RunState(skipped=list(skipped))
    existing = store.documents(collection)
    on_disk = {f.source for f in files}
    removed = sorted(s for s in existing if s not in on_disk)
    version = store.apply(
        collection, _updates(files, existing, collection, options, state, progress), removed
    )
    embedded, missing = (0, 0)
    if embedder is not None:
        embedded, missing = embed_missing(
            store,
            embedder,
            collection,
            batch=options.embed_batch,
            seconds=options.embed_seconds,
            progress=progress,
        )
    return IngestReport(
        collection=collection,
        files_seen=len(files) + len(skipped),
        files_ingested=state.ingested,
        files_unchanged=state.unchanged,
        files_removed=len(removed),
        chunks_written=state.chunks_written,
        chunks_embedded=embedded,
        vectors_missing=missing,
        invisible_removed=state.invisible_removed,
        markup_removed=state.markup_removed,
        skipped=tuple(state.skipped),
        notes=tuple(state.notes),
        index_version=version,
        seconds=time.perf_counter() - started,
    )


def embed_missing(
    store: IndexWriter,
    embedder: Embedder,
    collection: str,
    *,
    batch: int = 256,
    seconds: float | None = None,
    progress: ProgressFn = _no_progress,
) -> tuple[int, int]:
    """Embed chunks whose text has no vector yet; returns (embedded, still missing)."""
    pending = _distinct_texts(store.chunks_missing_vectors(collection, embedder.name))
    deadline = None if seconds is None else time.perf_counter() + seconds
    done = 0
    progress("embeddings", 0, len(pending))
    for start in range(0, len(pending), batch):
        if deadline is not None and time.perf_counter() > deadline:
            break
        group = pending[start : start + batch]
        vectors = embedder.embed([embed_text(c.heading_path, c.text) for c in group])
        store.put_vectors(
            embedder.name, [(c.text_hash, v) for c, v in zip(group, vectors, strict=True)]
        )
        done += len(group)
        progress("embeddings", done, len(pending))
    return done, len(pending) - done


def _distinct_texts(chunks: Sequence[Chunk]) -> list[Chunk]:
    seen: dict[str, Chunk] = {}
    for chunk in chunks:
        seen.setdefault(chunk.text_hash, chunk)
    return list(seen.values())
