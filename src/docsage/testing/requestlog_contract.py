"""The behaviour every request log (``RequestStore``: ``RequestLog`` and ``RequestHistory``)
must have, as a pytest base class (like ``StoreContract``)::

    class TestMyRequestLog(RequestLogContract):
        def make_store(self, location: Path) -> RequestStore:
            return MyRequestLog(location)

``make_store`` called twice with the same ``location`` must open the same log (another
worker): what one has flushed, the other sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from docsage.errors import NotFoundError
from docsage.ports import KeyUsage, RequestRecord, RequestStore

T0 = 1_000_000.0


def record(
    request_id: str, key_id: str | None = "k1", at: float = T0, **fields: Any
) -> RequestRecord:
    """A finished ``ask`` request, 200 unless ``status`` says otherwise."""
    values: dict[str, Any] = {"route": "ask", "status": 200, **fields}
    return RequestRecord(id=request_id, created_at=at, key_id=key_id, **values)


class RequestLogContract:
    """Subclass as ``Test<YourRequestLog>`` and implement ``make_store``."""

    def make_store(self, location: Path) -> RequestStore:
        raise NotImplementedError("a RequestLogContract subclass must implement make_store")

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        return tmp_path / "requests"

    @pytest.fixture
    def log(self, location: Path) -> Iterator[RequestStore]:
        log = self.make_store(location)
        try:
            yield log
        finally:
            log.close()

    @pytest.fixture
    def other(self, location: Path, log: RequestStore) -> Iterator[RequestStore]:
        """A second worker on the same log."""
        other = self.make_store(location)
        try:
            yield other
        finally:
            other.close()

    def test_flush_makes_submitted_records_visible(
        self, log: RequestStore, other: RequestStore
    ) -> None:
        full = record(
            "r1",
            collection="docs",
            question="how?",
            answer="so.",
            citations="[]",
            abstained=False,
            confidence=0.75,
            retrieve_ms=1.5,
            rerank_ms=0.5,
            generate_ms=3.0,
            total_ms=5.0,
            model="fake:echo",
            input_tokens=10,
            output_tokens=4,
            cost_usd=0.25,
            cache_hit=True,
            degraded="extractive",
            index_version=3,
        )
        log.submit(full)
        log.submit(record("r2", key_id=None, at=T0 + 1, route="search"))
        log.flush()
        assert log.records(T0) == [full, record("r2", key_id=None, at=T0 + 1, route="search")]
        assert other.records(T0) == log.records(T0)
        assert [r.id for r in other.records(T0 + 0.5)] == ["r2"]

    def test_records_persist_across_reopening(self, location: Path) -> None:
        log = self.make_store(location)
        log.submit(record("r1"))
        log.close()  # closing commits what was submitted
        again = self.make_store(location)
        try:
            assert again.records(T0) == [record("r1")]
            assert again.owner("r1") == "k1"
        finally:
            again.close()

    def test_usage_sums_a_keys_successful_requests_since_a_time(
        self, log: RequestStore, other: RequestStore
    ) -> None:
        log.submit(record("old", at=T0 - 10, input_tokens=100, cost_usd=9.0))
        log.submit(record("a", at=T0, input_tokens=3, output_tokens=2, cost_usd=0.5))
        log.submit(record("b", at=T0 + 5, input_tokens=1, cost_usd=0.25))
        log.submit(record("failed", at=T0 + 6, status=500, input_tokens=50, cost_usd=1.0))
        log.submit(record("theirs", key_id="k2", at=T0 + 7, input_tokens=70))
        log.flush()
        want = KeyUsage(requests=2, tokens=6, cost_usd=0.75, oldest=T0)
        assert log.usage("k1", T0) == want
        assert other.usage("k1", T0) == want, "another worker counts the committed rows"
        assert log.usage("k2", T0) == KeyUsage(requests=1, tokens=70, oldest=T0 + 7)
        assert log.usage("k1", T0 + 100) == KeyUsage()
        assert log.usage("nobody", 0.0) == KeyUsage()

    def test_a_submitted_record_counts_at_once(self, log: RequestStore) -> None:
        log.submit(record("a", input_tokens=7, cost_usd=0.5))
        assert log.usage("k1", T0) == KeyUsage(requests=1, tokens=7, cost_usd=0.5, oldest=T0)
        assert log.owner("a") == "k1"
        log.flush()
        assert log.usage("k1", T0) == KeyUsage(requests=1, tokens=7, cost_usd=0.5, oldest=T0)

    def test_a_reservation_counts_until_released_or_replaced(self, log: RequestStore) -> None:
        log.reserve("r1", "k1", "ask", T0)
        assert log.usage("k1", T0) == KeyUsage(requests=1, oldest=T0)
        assert log.owner("r1") == "k1"
        log.release("r1")
        assert log.usage("k1", T0) == KeyUsage()
        with pytest.raises(NotFoundError):
            log.owner("r1")
        log.reserve("r2", "k1", "ask", T0)
        log.submit(record("r2", at=T0 + 1, input_tokens=4))  # the finished request replaces it
        log.flush()
        assert log.usage("k1", T0) == KeyUsage(requests=1, tokens=4, oldest=T0 + 1)
        assert [r.id for r in log.records(0.0)] == ["r2"]

    def test_owner_of_requests(self, log: RequestStore, other: RequestStore) -> None:
        log.submit(record("mine"))
        log.submit(record("anonymous", key_id=None))
        log.flush()
        assert other.owner("mine") == "k1"
        assert other.owner("anonymous") is None
        with pytest.raises(NotFoundError):
            other.owner("req_missing")

    def test_feedback_only_for_an_existing_request(
        self, log: RequestStore, other: RequestStore
    ) -> None:
        with pytest.raises(NotFoundError):
            log.add_feedback("req_missing", "k1", 1, "")
        log.submit(record("r1"))
        log.add_feedback("r1", "k1", 1, "")  # before its record is committed
        log.flush()
        log.add_feedback("r1", None, -1, "wrong section")
        log.flush()
        given = other.feedback(0.0)
        assert [(f.request_id, f.key_id, f.rating, f.comment) for f in given] == [
            ("r1", "k1", 1, None),
            ("r1", None, -1, "wrong section"),
        ]
        assert given[0].created_at <= given[1].created_at
        assert other.feedback(given[1].created_at + 3600) == []
