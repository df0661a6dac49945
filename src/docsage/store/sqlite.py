"""The embedded default store: one SQLite file in WAL mode.

Text (documents, chunks, FTS5) changes in one ``BEGIN IMMEDIATE`` transaction per ``apply``,
so a process killed at any point leaves the previous index; WAL lets readers keep their
snapshot meanwhile. Vectors are a content-addressed cache filled afterwards in small commits,
which is what lets a killed embedding run resume without redoing work.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from docsage.errors import ConfigError
from docsage.ports import CollectionInfo, FileUpdate, ScoredChunk, Vector
from docsage.store.sqlite_db import SQLiteDatabase
from docsage.text import index_text, query_tokens
from docsage.types import Chunk

_CHUNK_COLUMNS = (
    "c.id, c.collection, c.source, c.anchor, c.title, c.heading_path, c.text, c.kind, "
    "c.line_start, c.line_end, c.ordinal, c.text_hash"
)


def _row_to_chunk(row: Sequence[Any]) -> Chunk:
    return Chunk(
        id=str(row[0]),
        collection=str(row[1]),
        source=str(row[2]),
        anchor=str(row[3]),
        title=str(row[4]),
        heading_path=tuple(json.loads(str(row[5]))),
        text=str(row[6]),
        kind=row[7],
        line_start=row[8],
        line_end=row[9],
        ordinal=int(row[10]),
        text_hash=str(row[11]),
    )


def fts_table(collection: str) -> str:
    """The collection's own FTS5 table. One table per collection keeps BM25's document
    frequencies and lengths per collection: another tenant's documents never move a score."""
    return "fts_" + hashlib.sha256(collection.encode("utf-8")).hexdigest()[:16]


def _ensure_fts(conn: sqlite3.Connection, collection: str) -> str:
    table = fts_table(collection)
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5 ("
        "title, body, tokenize = \"porter unicode61 tokenchars '_'\")"
    )
    return table


def _fts_query(query: str) -> str:
    return " OR ".join(f'"{token}"' for token in query_tokens(query))


class _DenseMatrix:
    """Vectors of one collection held in memory, valid for one (index, vectors) version."""

    def __init__(self, key: tuple[int, int], rows: Sequence[Sequence[Any]], matrix: Vector) -> None:
        self.key = key
        self.rowids = np.asarray([int(r[0]) for r in rows], dtype=np.int64)
        self.sources = [str(r[1]) for r in rows]
        self.position = {str(r[2]): i for i, r in enumerate(rows)}
        self.matrix = matrix


class SQLiteStore(SQLiteDatabase):
    """``Store`` on one SQLite file. Safe to share between threads of one process and
    between processes (WAL, busy timeout)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0) -> None:
        super().__init__(path, timeout_s=timeout_s)
        self._dense: dict[tuple[str, str], _DenseMatrix] = {}
        self._links: dict[str, tuple[int, dict[str, int]]] = {}

    # -- documents and chunks -----------------------------------------------------------

    def documents(self, collection: str) -> dict[str, str]:
        rows = self._read(
            "SELECT source, content_hash FROM documents WHERE collection = ?", (collection,)
        )
        return {str(source): str(digest) for source, digest in rows}

    def apply(self, collection: str, updates: Iterable[FileUpdate], removed: Sequence[str]) -> int:
        with self._write() as conn:
            changed = bool(removed)
            for source in removed:
                self._delete_source(conn, collection, source)
            for update in updates:
                self._delete_source(conn, collection, update.document.source)
                self._insert(conn, update)
                changed = True
            if not changed and self._version_in(conn, collection):
                return self._version_in(conn, collection)  # nothing changed: caches stay valid
            conn.execute(
                "INSERT INTO collections (name, index_version) VALUES (?, 1) "
                "ON CONFLICT (name) DO UPDATE SET index_version = index_version + 1, "
                "updated_at = unixepoch()",
                (collection,),
            )
            row = conn.execute(
                "SELECT index_version FROM collections WHERE name = ?", (collection,)
            ).fetchone()
        return int(row[0])

    @staticmethod
    def _version_in(conn: sqlite3.Connection, collection: str) -> int:
        row = conn.execute(
            "SELECT index_version FROM collections WHERE name = ?", (collection,)
        ).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _delete_source(conn: sqlite3.Connection, collection: str, source: str) -> None:
        conn.execute(
            f"DELETE FROM {_ensure_fts(conn, collection)} WHERE rowid IN "
            "(SELECT rowid FROM chunks WHERE collection = ? AND source = ?)",
            (collection, source),
        )
        conn.execute("DELETE FROM chunks WHERE collection = ? AND source = ?", (collection, source))
        conn.execute(
            "DELETE FROM documents WHERE collection = ? AND source = ?", (collection, source)
        )
        conn.execute("DELETE FROM links WHERE collection = ? AND source = ?", (collection, source))

    @staticmethod
    def _insert(conn: sqlite3.Connection, update: FileUpdate) -> None:
        doc = update.document
        table = _ensure_fts(conn, doc.collection)
        conn.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
            (doc.collection, doc.source, doc.content_hash, doc.title, doc.size),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO links VALUES (?, ?, ?)",
            [(doc.collection, doc.source, target) for target in update.links],
        )
        for chunk in update.chunks:
            cursor = conn.execute(
                "INSERT INTO chunks (id, collection, source, anchor, title, heading_path, text,"
                " kind, line_start, line_end, ordinal, text_hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chunk.id,
                    chunk.collection,
                    chunk.source,
                    chunk.anchor,
                    chunk.title,
                    json.dumps(list(chunk.heading_path)),
                    chunk.text,
                    chunk.kind,
                    chunk.line_start,
                    chunk.line_end,
                    chunk.ordinal,
                    chunk.text_hash,
                ),
            )
            conn.execute(
                f"INSERT INTO {table} (rowid, title, body) VALUES (?, ?, ?)",
                (
                    cursor.lastrowid,
                    index_text(" ".join((*chunk.heading_path[-2:], chunk.anchor))),
                    index_text(chunk.text),
                ),
            )

    def chunks(self, collection: str, source: str, anchor: str | None = None) -> list[Chunk]:
        sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks c WHERE c.collection = ? AND c.source = ?"
        params: list[object] = [collection, source]
        if anchor is not None:
            sql += " AND c.anchor = ?"
            params.append(anchor)
        return [_row_to_chunk(r) for r in self._read(sql + " ORDER BY c.ordinal", params)]

    def link_counts(self, collection: str) -> dict[str, int]:
        version = self.index_version(collection)
        cached = self._links.get(collection)
        if cached is not None and cached[0] == version:
            return cached[1]
        rows = self._read(
            "SELECT target, count(*) FROM links WHERE collection = ? GROUP BY target",
            (collection,),
        )
        counts = {str(target): int(n) for target, n in rows}
        self._links[collection] = (version, counts)
        return counts

    def term_counts(self, collection: str, terms: Sequence[str]) -> dict[str, int]:
        table = fts_table(collection)
        if not self._read("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)):
            return dict.fromkeys(terms, 0)
        # One count per term: FTS5 counts a term's doclist without scoring it.
        return {
            term: int(
                self._read(
                    f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", (_fts_query(term),)
                )[0][0]
            )
            if _fts_query(term)
            else 0
            for term in terms
        }

    def collections(self) -> list[CollectionInfo]:
        rows = self._read(
            "SELECT name, index_version,"
            " (SELECT count(*) FROM documents d WHERE d.collection = name),"
            " (SELECT count(*) FROM chunks c WHERE c.collection = name), updated_at"
            " FROM collections ORDER BY name"
        )
        return [
            CollectionInfo(
                name=str(n),
                index_version=int(v),
                documents=int(d),
                chunks=int(c),
                updated_at=None if at is None else float(at),
            )
            for n, v, d, c, at in rows
        ]

    def index_version(self, collection: str) -> int:
        rows = self._read("SELECT index_version FROM collections WHERE name = ?", (collection,))
        return int(rows[0][0]) if rows else 0

    # -- vectors ------------------------------------------------------------------------

    def chunks_missing_vectors(self, collection: str, model: str) -> list[Chunk]:
        rows = self._read(
            f"SELECT {_CHUNK_COLUMNS} FROM chunks c WHERE c.collection = ? AND NOT EXISTS"
            " (SELECT 1 FROM vectors v WHERE v.model = ? AND v.text_hash = c.text_hash)"
            " ORDER BY c.rowid",
            (collection, model),
        )
        return [_row_to_chunk(r) for r in rows]

    def put_vectors(self, model: str, items: Sequence[tuple[str, Vector]]) -> None:
        with self._write() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
            )
            conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'vectors_version'")

    def _dense_matrix(self, collection: str, model: str) -> _DenseMatrix:
        version = self._read(
            "SELECT (SELECT index_version FROM collections WHERE name = ?),"
            " (SELECT value FROM meta WHERE key = 'vectors_version')",
            (collection,),
        )[0]
        key = (int(version[0] or 0), int(version[1] or 0))
        cached = self._dense.get((collection, model))
        if cached is not None and cached.key == key:
            return cached
        rows = self._read(
            "SELECT c.rowid, c.source, c.id, v.vector FROM chunks c JOIN vectors v"
            " ON v.model = ? AND v.text_hash = c.text_hash WHERE c.collection = ?"
            " ORDER BY c.rowid",
            (model, collection),
        )
        matrix = (
            np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), -1)
            if rows
            else np.zeros((0, 1), dtype=np.float32)
        )
        dense = _DenseMatrix(key, rows, matrix)
        self._dense[(collection, model)] = dense
        return dense

    def dense_search(
        self, collection: str, model: str, vector: Vector, k: int, path_prefix: str = ""
    ) -> list[ScoredChunk]:
        dense = self._dense_matrix(collection, model)
        if not len(dense.rowids):
            return []
        scores = dense.matrix @ np.asarray(vector, dtype=np.float32)
        if path_prefix:
            keep = np.fromiter((s.startswith(path_prefix) for s in dense.sources), dtype=bool)
            scores = np.where(keep, scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        top = top[np.isfinite(scores[top])]
        by_rowid = self._chunks_by_rowid([int(dense.rowids[i]) for i in top])
        return [
            ScoredChunk(chunk=by_rowid[int(dense.rowids[i])], score=float(scores[i])) for i in top
        ]

    def dense_scores(
        self, collection: str, model: str, vector: Vector, chunk_ids: Sequence[str]
    ) -> dict[str, float]:
        dense = self._dense_matrix(collection, model)
        known = [(cid, dense.position[cid]) for cid in chunk_ids if cid in dense.position]
        if not known:
            return {}
        scores = dense.matrix[[i for _, i in known]] @ np.asarray(vector, dtype=np.float32)
        return {cid: float(score) for (cid, _), score in zip(known, scores, strict=True)}

    def _chunks_by_rowid(self, rowids: list[int]) -> dict[int, Chunk]:
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self._read(
            f"SELECT c.rowid, {_CHUNK_COLUMNS} FROM chunks c WHERE c.rowid IN ({marks})", rowids
        )
        return {int(r[0]): _row_to_chunk(r[1:]) for r in rows}

    # -- lexical ------------------------------------------------------------------------

    def lexical_search(
        self, collection: str, query: str, k: int, path_prefix: str = ""
    ) -> list[ScoredChunk]:
        match = _fts_query(query)
        if not match:
            return []
        table = fts_table(collection)
        exists = self._read("SELECT 1 FROM sqlite_master WHERE name = ?", (table,))
        if not exists:
            return []
        rows = self._read(
            f"SELECT -bm25({table}, 2.0, 1.0) AS score, {_CHUNK_COLUMNS}"
            f" FROM {table} JOIN chunks c ON c.rowid = {table}.rowid"
            f" WHERE {table} MATCH ? AND c.collection = ? AND substr(c.source, 1, ?) = ?"
            f" ORDER BY bm25({table}, 2.0, 1.0) LIMIT ?",
            (match, collection, len(path_prefix), path_prefix, k),
        )
        return [ScoredChunk(chunk=_row_to_chunk(r[1:]), score=float(r[0])) for r in rows]


def open_store(location: str) -> SQLiteStore:
    """``sqlite:<path>``: the index in that SQLite file (created and migrated if need be)."""
    if not location:
        raise ConfigError("name the file: sqlite:<path>, e.g. sqlite:/srv/docsage/index.sqlite")
    return SQLiteStore(Path(location).expanduser())
