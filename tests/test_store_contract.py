"""The SQLite store against the contract every ``Store`` must pass."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from docsage.ports import Store
from docsage.store.sqlite import SQLiteStore
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
        assert conn.execute("SELECT count(*) FROM chunks_fts").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM chunks").fetchone() == (1,)
        conn.execute("INSERT INTO chunks_fts (chunks_fts) VALUES ('integrity-check')")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
