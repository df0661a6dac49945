"""Pure pieces of the service (limits, prices, report maths) and the in-process parts that
need no second server: privacy mode and OpenTelemetry spans (SDK in-memory exporter)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from docsage.api.app import create_app
from docsage.app import Docsage
from docsage.errors import ConfigError
from docsage.ports import KeyUsage, RequestRecord
from docsage.pricing import load_prices
from docsage.service.limits import Limits, over_budget, retry_after
from docsage.service.report import build_report, parse_since
from docsage.settings import Settings
from test_api_support import ALPHA, app_in_thread


def test_rate_limit_maths() -> None:
    limits = Limits(rpm=3, tpm=100)
    assert retry_after(KeyUsage(requests=2, oldest=100.0), limits, now=110.0) is None
    assert retry_after(KeyUsage(requests=3, oldest=100.0), limits, now=110.0) == 50
    assert retry_after(KeyUsage(requests=1, tokens=100, oldest=100.0), limits, now=159.5) == 1
    assert retry_after(KeyUsage(requests=99), Limits(), now=0.0) is None


def test_budgets() -> None:
    limits = Limits(tokens_day=1000, usd_month=5.0)
    assert over_budget(KeyUsage(tokens=999), KeyUsage(cost_usd=4.9), limits) is None
    assert "tokens per day" in str(over_budget(KeyUsage(tokens=1000), KeyUsage(), limits))
    assert "USD per month" in str(over_budget(KeyUsage(), KeyUsage(cost_usd=5.0), limits))


def test_price_table(tmp_path: Path) -> None:
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"openai:gpt-4o-mini": {"input": 0.15, "output": 0.6}}))
    prices = load_prices(table)
    assert prices.cost("openai:gpt-4o-mini", 1_000_000, 500_000) == pytest.approx(0.45)
    assert prices.cost("extractive", 10, 10) == 0.0
    with pytest.raises(ConfigError, match="no price"):
        prices.cost("openai:unknown", 1, 1)
    table.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="price table"):
        load_prices(table)


def test_report_helpers() -> None:
    assert parse_since("7d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400
    with pytest.raises(Exception, match="7d"):
        parse_since("week")


def test_report_maths(tmp_path: Path) -> None:
    from docsage.store.sqlite_requests import SQLiteRequestLog

    def record(i: int, route: str = "ask", status: int = 200, **fields: Any) -> RequestRecord:
        return RequestRecord(
            id=f"r{i}", created_at=1000.0 + i, key_id="k", route=route, status=status, **fields
        )

    with SQLiteRequestLog(tmp_path / "index.sqlite") as log:
        log.submit(record(0, status=200, route="search", total_ms=500.0))  # before the window
        for i, (question, abstained) in enumerate(
            [(" How? ", False), ("how?", True), ("Why", True), ("why", True), ("what", None)], 1
        ):
            log.submit(
                record(
                    i,
                    question=question,
                    abstained=abstained,
                    total_ms=10.0 * i,
                    input_tokens=5,
                    output_tokens=5,
                    cost_usd=0.5,
                    cache_hit=i == 1,
                )
            )
        log.submit(record(6, status=500, question="broken", total_ms=9999.0, input_tokens=99))
        log.submit(record(7, route="search", question="not an ask", total_ms=30.0))
        log.flush()
        log.add_feedback("r1", "k", 1, "")
        log.add_feedback("r2", "k", -1, "wrong")
        log.flush()
        report = build_report(log, since=1000.5, top=2)
    assert report.requests == 7 and report.errors == 1
    assert report.by_route == {"ask": 6, "search": 1}
    assert report.tokens == 50 and report.cost_usd == pytest.approx(2.5)
    assert report.latency_ms["p50"] == 30.0
    assert report.cache_hit_rate == pytest.approx(1 / 6)
    assert (report.answers, report.abstention_rate) == (4, 0.75)
    assert (report.feedback_up, report.feedback_down) == (1, 1)
    assert report.top_questions == [("how?", 2), ("why", 2)]
    assert report.gaps == [("why", 2), ("how?", 1)]


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[tuple[str, InMemorySpanExporter, Path]]:
    """uvicorn in a thread (auth off, content capture off) with an in-memory span exporter."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(ALPHA)
    settings = Settings(home=tmp_path / "home", auth=False, capture_content=False)
    with Docsage(settings) as ds:
        ds.ingest(docs, collection="default")
    exporter = InMemorySpanExporter()
    with app_in_thread(create_app(settings, span_exporter=exporter)) as url:
        yield url, exporter, settings.index_path


def test_privacy_mode_and_genai_spans(local_server: tuple[str, InMemorySpanExporter, Path]) -> None:
    url, exporter, db = local_server
    question = "How often is a failed job retried?"
    body = httpx.post(url + "/v1/ask", json={"question": question}, timeout=30).json()
    assert body["citations"], "auth off on loopback: no key needed"
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert {"docsage.ask", "retrieval", "rerank", "chat extractive"} <= set(spans)
    gen = spans["chat extractive"].attributes or {}
    assert gen["gen_ai.operation.name"] == "chat"
    assert gen["gen_ai.provider.name"] == "docsage"
    assert gen["gen_ai.request.model"] == "extractive"
    assert gen["gen_ai.usage.input_tokens"] == 0
    root = spans["docsage.ask"].context
    assert root is not None and spans["retrieval"].parent is not None
    assert spans["retrieval"].parent.span_id == root.span_id
    threading.Event().wait(0.5)  # the request log writes in the background
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT question, answer, citations, confidence, total_ms FROM requests WHERE id = ?",
            (body["id"],),
        ).fetchone()
    assert row[:3] == (None, None, None), "content capture is off"
    assert row[3] > 0 and row[4] > 0, "the numbers are kept"


def test_a_write_that_cannot_succeed_is_reported_not_retried_forever(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from docsage.store.sqlite_db import SQLiteDatabase
    from docsage.store.sqlite_writes import Write, WriteQueue

    store = SQLiteDatabase(tmp_path / "side.sqlite")
    writes = WriteQueue(store, retry_s=0.01)
    done: list[int] = []
    writes.put(Write("INSERT INTO no_such_table VALUES (1)", (), lambda: done.append(1)))
    finished = threading.Event()
    threading.Thread(target=lambda: (writes.join(), finished.set()), daemon=True).start()
    assert finished.wait(5), "join() returned: the failing write was not retried forever"
    assert writes.dropped == 1 and done == [1]
    assert "no such table" in caplog.text
    writes.close()
    store.close()


def test_a_limit_that_is_none_is_off_and_a_keys_none_exempts_it(tmp_path: Path) -> None:
    settings = Settings.from_env({"DOCSAGE_RATE_LIMIT_RPM": "2"}, home=tmp_path)
    assert Settings.from_env({}, home=tmp_path).rate_limit_rpm is None, "unlimited by default"
    busy = KeyUsage(requests=5, oldest=0.0)
    assert retry_after(busy, Limits.from_settings(settings), now=1.0) is not None
    exempt = Limits.from_settings(settings, {"rpm": None})
    assert exempt.rpm is None and retry_after(busy, exempt, now=1.0) is None
    assert over_budget(KeyUsage(requests=10**6), KeyUsage(), exempt) is None


def test_a_keys_exemption_is_stored_and_zero_is_refused(tmp_path: Path) -> None:
    from docsage.store.sqlite_keys import SQLiteKeyStore
    from test_api_support import cli

    store = SQLiteKeyStore(tmp_path / "index.sqlite")
    _, secret = store.create("bot", ["ask"], ["*"], {"rpm": None, "tpm": 50.0})
    found = store.authenticate(secret)
    assert found is not None and found.limits == {"rpm": None, "tpm": 50.0}
    store.close()
    with pytest.raises(AssertionError, match="above 0 or 'none'"):
        cli(tmp_path, "keys", "create", "--name", "x", "--rpm", "0")
