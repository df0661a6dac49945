"""The request log: one row per API request, and feedback on answers.

Requests never wait on the database: rows go through a ``WriteQueue``. Until a row is
committed it is counted from memory, so rate limits and budgets see it at once (and the rows
of other workers once those are committed).
"""

from __future__ import annotations

import threading
import time
from dataclasses import astuple, dataclass, fields
from functools import partial
from pathlib import Path

from docsage.errors import NotFoundError
from docsage.service.db import SideStore, Write, WriteQueue
from docsage.service.limits import Usage


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestRecord:
    id: str
    created_at: float
    key_id: str | None
    route: str
    status: int
    collection: str | None = None
    question: str | None = None
    answer: str | None = None
    citations: str | None = None
    abstained: bool | None = None
    confidence: float | None = None
    retrieve_ms: float = 0.0
    rerank_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_hit: bool = False
    degraded: str | None = None
    index_version: int | None = None


_NAMES = [f.name for f in fields(RequestRecord)]
_INSERT = (
    f"INSERT OR REPLACE INTO requests ({', '.join(_NAMES)}) VALUES ({', '.join('?' * len(_NAMES))})"
)
_FEEDBACK = (
    "INSERT INTO feedback (request_id, key_id, created_at, rating, comment) VALUES (?, ?, ?, ?, ?)"
)


class RequestLog(SideStore):
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
        """Count a request from its admission on, before its row is written."""
        record = RequestRecord(
            id=request_id, created_at=now, key_id=key_id, route=route, status=102
        )
        with self._pending_lock:
            self._pending[request_id] = record

    def release(self, request_id: str) -> None:
        """Forget a reservation whose request was refused."""
        self._committed(request_id)

    def _committed(self, request_id: str) -> None:
        with self._pending_lock:
            self._pending.pop(request_id, None)

    def flush(self) -> None:
        """Wait until every submitted row is committed."""
        self._writer.join()

    def usage(self, key_id: str, since: float) -> Usage:
        """Requests, tokens and cost of a key since a time: committed rows plus queued ones
        (a row committed a moment ago may count twice: the error is on the safe side)."""
        with self._pending_lock:
            pending = [r for r in self._pending.values() if r.key_id == key_id]
        row = self._read(
            "SELECT count(*), coalesce(sum(input_tokens + output_tokens), 0),"
            " coalesce(sum(cost_usd), 0), min(created_at) FROM requests"
            " WHERE key_id = ? AND created_at >= ? AND status < 400",
            (key_id, since),
        )[0]
        total = Usage(
            requests=int(row[0]), tokens=int(row[1]), cost_usd=float(row[2]), oldest=row[3]
        )
        for r in pending:
            if r.created_at >= since and r.status < 400:
                total = total + Usage(
                    requests=1,
                    tokens=r.input_tokens + r.output_tokens,
                    cost_usd=r.cost_usd,
                    oldest=r.created_at,
                )
        return total

    def owner(self, request_id: str) -> str | None:
        """The key that made a request; NotFoundError when there is no such request."""
        with self._pending_lock:
            if request_id in self._pending:
                return self._pending[request_id].key_id
        rows = self._read("SELECT key_id FROM requests WHERE id = ?", (request_id,))
        if not rows:
            raise NotFoundError(f"no answer {request_id!r}; use the id an /v1/ask response gave")
        return None if rows[0][0] is None else str(rows[0][0])

    def add_feedback(self, request_id: str, key_id: str | None, rating: int, comment: str) -> None:
        params = (request_id, key_id, time.time(), rating, comment or None)
        self._writer.put(Write(_FEEDBACK, params))

    def close(self) -> None:
        self._writer.close()
        super().close()
