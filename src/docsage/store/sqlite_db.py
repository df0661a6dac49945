"""One connection to the docsage SQLite file, shared by the threads of one process.

WAL mode and a busy timeout let several processes (service workers, an ingest, an eval) use
the file at once; writes go through ``write()`` (``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled
back on any exception). The index store, the eval runs and the service tables all build on it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from docsage.errors import StoreError
from docsage.store.sqlite_schema import migrate


class SQLiteDatabase:
    label = "the index"

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            migrate(self._conn)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.label} at {self.path}: {exc}") from exc
        self._lock = threading.RLock()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
