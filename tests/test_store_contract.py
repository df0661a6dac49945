"""The SQLite store against the contract every ``Store`` must pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from docsage.ports import Store
from docsage.store.sqlite import SQLiteStore, fts_table
from docsage.testing.store_contract import StoreContract, make_update


class TestSQLiteStore(StoreContract):
    def make_store(self, location: Path) -> Store:
        return SQLiteStore(location / "index.sqlite")


def test_sqlite_fts_index_matches_chunks_after_replacements(tmp_path: Path) -> None:
    """The FTS table holds exactly one row per chunk, and its own integrity check passes."""
    path = tmp_path / "index.sqlite"
    store = SQLiteStore(path)
    store.apply("c", [make_update("c", "a.md", "one", "two"), make_update("c", "b.md", "x")], [])
    store.apply("c", [make_update("c", "a.md", "three", version="2")], ["b.md"])
    store.close()
    conn = sqlite3.connect(path)
    try:
        fts = fts_table("c")
        assert conn.execute(f"SELECT count(*) FROM {fts}").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM chunks").fetchone() == (1,)
        conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


def test_lexical_scores_of_a_collection_ignore_other_collections(tmp_path: Path) -> None:
    """BM25 statistics are per collection: adding documents elsewhere changes no score."""
    store = SQLiteStore(tmp_path / "index.sqlite")
    store.apply(
        "a",
        [make_update("a", "x.md", "retry the failed job"), make_update("a", "y.md", "job queue")],
        [],
    )
    before = [(s.chunk.source, s.score) for s in store.lexical_search("a", "retry job", 10)]
    store.apply("b", [make_update("b", f"n{i}.md", "job job job retry") for i in range(20)], [])
    after = [(s.chunk.source, s.score) for s in store.lexical_search("a", "retry job", 10)]
    store.close()
    assert before == after and len(before) == 2
