"""The request log in the index file (tables ``requests`` and ``feedback`` of migration
``0003_service``): the ``RequestStore`` port's default adapter.

Requests never wait on the database: rows go through a ``WriteQueue``. Until a row is
committed it is counted from memory, so rate limits and budgets see it at once (and the rows
of other workers once those are committed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import astuple, fields
from functools import partial
from pathlib import Path
from typing import Any

from docsage.errors import NotFoundError
from docsage.ports.requests import Feedback, KeyUsage, RequestRecord
from docsage.store.sqlite_db import SQLiteDatabase
from docsage.store.sqlite_writes import Write, WriteQueue

_NAMES = [f.name for f in fields(RequestRecord)]
_INSERT = (
    f"INSERT OR REPLACE INTO requests ({', '.join(_NAMES)}) VALUES ({', '.join('?' * len(_NAMES))})"
)
_FEEDBACK_COLUMNS = "request_id, key_id, created_at, rating, comment"
_FEEDBACK = f"INSERT INTO feedback ({_FEEDBACK_COLUMNS}) VALUES (?, ?, ?, ?, ?)"


def _row_to_record(row: Sequence[Any]) -> RequestRecord:
    values = dict(zip(_NAMES, row, strict=True))
    values["cache_hit"] = bool(values["cache_hit"])
    if values["abstained"] is not None:
        values["abstained"] = bool(values["abstained"])
    return RequestRecord(**values)


class SQLiteRequestLog(SQLiteDatabase):
    label = "the request log"

    def __init__(self, path: str | Path, *, timeout_s: float = 5.0) -> None:
        super().__init__(path, timeout_s=timeout_s)
        self._writer = WriteQueue(self)
        self._pending: dict[str, RequestRecord] = {}
        self._pending_lock = threading.Lock()

    def submit(self, record: RequestRecord) -> None:
        with self._pending_lock:
            self._pending[record.id] = record
        self._writer.put(Write(_INSERT, astuple(record), partial(self._committed, record.id)))

    def reserve(self, request_id: str, key_id: str, route: str, now: float) -> None:
        record = RequestRecord(
            id=request_id, created_at=now, key_id=key_id, route=route, status=102
        )
        with self._pending_lock:
            self._pending[request_id] = record

    def release(self, request_id: str) -> None:
        self._committed(request_id)

    def _committed(self, request_id: str) -> None:
        with self._pending_lock:
            self._pending.pop(request_id, None)

    def flush(self) -> None:
        self._writer.join()

    def usage(self, key_id: str, since: float) -> KeyUsage:
        with self._pending_lock:
            pending = [r for r in self._pending.values() if r.key_id == key_id]
        row = self._read(
            "SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0),"
            " coalesce(sum(cost_usd), 0), min(created_at) FROM requests"
            " WHERE key_id = ? AND created_at >= ? AND status < 400",
            (key_id, since),
        )[0]
        total = KeyUsage(
            requests=int(row[0]), tokens=int(row[1]), cost_usd=float(row[2]), oldest=row[3]
        )
        for r in pending:
            if r.created_at >= since and r.status < 400:
                total = total + KeyUsage(
                    requests=1,
                    tokens=r.input_tokens + r.output_tokens,
                    cost_usd=r.cost_usd,
                    oldest=r.created_at,
                )
        return total

    def owner(self, request_id: str) -> str | None:
        with self._pending_lock:
            if request_id in self._pending:
                return self._pending[request_id].key_id
        rows = self._read("SELECT key_id FROM requests WHERE id = ?", (request_id,))
        if not rows:
            raise NotFoundError(f"no answer {request_id!r}; use the id an /v1/ask response gave")
        return None if rows[0][0] is None else str(rows[0][0])

    def add_feedback(self, request_id: str, key_id: str | None, rating: int, comment: str) -> None:
        self.owner(request_id)  # NotFoundError for a request that was never logged
        params = (request_id, key_id, time.time(), rating, comment or None)
        self._writer.put(Write(_FEEDBACK, params))

    def records(self, since: float) -> list[RequestRecord]:
        rows = self._read(
            f"SELECT {', '.join(_NAMES)} FROM requests WHERE created_at >= ?"
            " ORDER BY created_at, id",
            (since,),
        )
        return [_row_to_record(r) for r in rows]

    def feedback(self, since: float) -> list[Feedback]:
        rows = self._read(
            f"SELECT {_FEEDBACK_COLUMNS} FROM feedback WHERE created_at >= ? ORDER BY id",
            (since,),
        )
        return [
            Feedback(request_id=r[0], key_id=r[1], created_at=r[2], rating=r[3], comment=r[4])
            for r in rows
        ]

    def close(self) -> None:
        self._writer.close()
        super().close()
