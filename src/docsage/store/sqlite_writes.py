"""Background writes for the service's SQLite adapters (request log, jobs): requests never
wait on the database, even while an ingest holds its write lock."""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from docsage.store.sqlite_db import SQLiteDatabase

log = logging.getLogger(__name__)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock: worth waiting for. Anything else (a read-only or
    full disk, a missing table) will not fix itself."""
    message = str(exc).lower()
    return "locked" in message or "busy" in message


@dataclass(frozen=True, slots=True)
class Write:
    """One statement for a ``WriteQueue``; ``done`` runs after it is committed."""

    sql: str
    params: tuple[object, ...]
    done: Callable[[], None] | None = None


class WriteQueue:
    """Writes from a background thread, in batches, retried while another connection holds
    the write lock (an ingest holds it while it parses), so callers never wait on it. A batch
    that fails for another reason, or stays locked past ``give_up_s``, is logged with the
    error and dropped (counted in ``dropped``): ``join`` never hangs on a broken database."""

    def __init__(
        self, store: SQLiteDatabase, *, retry_s: float = 0.2, give_up_s: float = 60.0
    ) -> None:
        self._store = store
        self._retry_s = retry_s
        self._give_up_s = give_up_s
        self.dropped = 0
        self._queue: queue.Queue[Write | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="docsage-writer", daemon=True)
        self._thread.start()

    def put(self, write: Write) -> None:
        self._queue.put(write)

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty() and len(batch) < 200:
                batch.append(self._queue.get())
            writes = [w for w in batch if w is not None]
            self._commit(writes)
            for _ in batch:
                self._queue.task_done()
            if None in batch:
                return

    def _commit(self, writes: list[Write]) -> None:
        started = time.monotonic()
        while writes:
            try:
                with self._store._write() as conn:
                    for w in writes:
                        conn.execute(w.sql, w.params)
                break
            except sqlite3.Error as exc:
                waited = time.monotonic() - started
                busy = isinstance(exc, sqlite3.OperationalError) and is_busy(exc)
                if busy and waited < self._give_up_s:
                    time.sleep(self._retry_s)
                    continue
                log.error(
                    "dropped %d request-log writes after %.1f s: %s (%s)",
                    len(writes),
                    waited,
                    exc,
                    self._store.path,
                )
                self.dropped += len(writes)
                break
        for w in writes:
            if w.done is not None:
                w.done()

    def join(self) -> None:
        """Wait until every queued write is committed."""
        self._queue.join()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)
