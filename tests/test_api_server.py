"""The HTTP API against a real ``docsage serve`` (two workers) on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from test_api_support import Server, cli

# Starts a real docsage serve process with the ONNX embedder.
pytestmark = pytest.mark.slow


ASK = {"question": "How often is a failed job retried?", "collection": "alpha"}


def test_health_ready_and_metrics(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok"}
    # The server is shared by every API test module; others may have added collections.
    assert httpx.get(server.url + "/readyz").json()["collections"] >= 2
    server.post("alpha", "/v1/ask", ASK)
    assert httpx.get(server.url + "/metrics").status_code == 401
    with server.client("alpha") as tenant, server.client("admin") as admin:
        assert tenant.get("/metrics").status_code == 403  # it names every collection
        text = admin.get("/metrics").text
    assert 'docsage_requests_total{route="/v1/ask",status="200"}' in text
    assert "docsage_request_seconds_bucket" in text
    assert 'docsage_chunks{collection="beta"}' in text
    assert "docsage_in_flight_requests" in text


def test_served_openapi_equals_the_checked_in_file(server: Server) -> None:
    served = httpx.get(server.url + "/openapi.json").json()
    checked_in = json.loads((Path(__file__).parents[1] / "openapi.json").read_text())
    assert served == checked_in, "regenerate with: python -m docsage.api.spec > openapi.json"


def test_ask_returns_a_cited_answer(server: Server) -> None:
    body = server.post("alpha", "/v1/ask", ASK).json()
    assert not body["abstained"] and body["answer"]
    first = body["citations"][0]
    assert first["ref"] == "guide.md#retries" and first["lines"] == [7, 7]
    assert "max_retries" in first["quote"]
    assert body["usage"] == {
        "model": "extractive",
        "input_tokens": 0,
        "output_tokens": 0,
        "cost_usd": 0.0,
    }
    assert set(body["timings"]) == {
        "retrieve_ms",
        "rerank_ms",
        "generate_ms",
        "total_ms",
        "first_token_ms",
    }


def test_search_returns_ranked_hits(server: Server) -> None:
    body = server.post("alpha", "/v1/search", {"query": "backoff wait", "collection": "alpha"})
    hits = body.json()["hits"]
    assert hits[0]["ref"] == "guide.md#backoff"
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_auth_is_required_and_revocation_works(server: Server) -> None:
    for path in ("/v1/ask", "/v1/search", "/v1/chat/completions", "/v1/feedback", "/v1/ingest"):
        response = server.post(None, path, {})
        assert response.status_code == 401, path
        assert "docsage keys create" in response.json()["error"]["message"]
    with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer dsk_nope"}) as c:
        assert c.get("/v1/collections").status_code == 401
    assert server.post("revoked", "/v1/ask", ASK).status_code == 200
    cli(server.home, "keys", "revoke", "gone")
    assert server.post("revoked", "/v1/ask", ASK).status_code == 401


def test_a_key_never_sees_another_tenants_collection(server: Server) -> None:
    with server.client("alpha") as c:
        assert [x["name"] for x in c.get("/v1/collections").json()["collections"]] == ["alpha"]
        assert [m["id"] for m in c.get("/v1/models").json()["data"]] == ["docsage:alpha"]
    foreign = {"question": "How often is the deploy key rotated?", "collection": "beta"}
    for path, body in (
        ("/v1/ask", foreign),
        ("/v1/search", {"query": "deploy key", "collection": "beta"}),
        (
            "/v1/chat/completions",
            {"model": "docsage:beta", "messages": [{"role": "user", "content": "deploy key?"}]},
        ),
        (
            "/v1/chat/completions",
            {
                "model": "docsage",
                "collection": "beta",
                "messages": [{"role": "user", "content": "deploy key?"}],
            },
        ),
    ):
        response = server.post("alpha", path, body)
        assert response.status_code == 404, path
        assert "beta" not in response.json()["error"]["message"].split("readable:")[1]
    beta_answer = server.post("beta", "/v1/ask", foreign).json()
    assert "ninety days" in beta_answer["answer"]
    response = server.post(
        "alpha", "/v1/feedback", {"answer_id": beta_answer["id"], "rating": "up"}
    )
    assert response.status_code == 404
    response = server.post("alpha_ingest", "/v1/ingest", {"path": "beta", "collection": "beta"})
    assert response.status_code == 403
    job = server.post("admin", "/v1/ingest", {"path": "beta", "collection": "beta"}).json()
    with server.client("alpha_ingest") as c:
        assert c.get(f"/v1/jobs/{job['id']}").status_code == 404
    with server.client("admin") as c:
        names = {x["name"] for x in c.get("/v1/collections").json()["collections"]}
    assert {"alpha", "beta"} <= names


def test_scopes_are_enforced(server: Server) -> None:
    response = server.post("alpha", "/v1/ingest", {"path": "alpha", "collection": "alpha"})
    assert response.status_code == 403 and "ingest" in response.json()["error"]["message"]


def test_malformed_input_gets_a_4xx_with_a_reason(server: Server) -> None:
    cases = [
        ({"question": ""}, 422),
        ({"question": "x" * 2001, "collection": "alpha"}, 422),
        ({"question": "hi", "collection": "alpha", "colour": "red"}, 422),
        ({"question": 5}, 422),
        ({"question": "hi", "collection": "../etc"}, 422),
    ]
    for body, status in cases:
        response = server.post("alpha", "/v1/ask", body)
        assert response.status_code == status, body
        assert response.json()["error"]["message"]
    with server.client("alpha") as c:
        bad_json = c.post(
            "/v1/ask", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert bad_json.status_code == 422
        huge = c.post(
            "/v1/ask", content=b"x" * 100_000, headers={"content-type": "application/json"}
        )
        assert huge.status_code == 413
        assert c.post("/v1/search", json={"query": "x", "k": 0}).status_code == 422
        assert c.get("/v1/jobs/" + "x" * 100).status_code == 422


def test_chat_completions_plain_and_streaming(server: Server) -> None:
    user = {"role": "user", "content": "How often is a failed job retried?"}
    body = {"model": "docsage:alpha", "messages": [{"role": "system", "content": "hi"}, user]}
    reply = server.post("alpha", "/v1/chat/completions", body).json()
    content = reply["choices"][0]["message"]["content"]
    assert "Sources:\n[1] guide.md#retries" in content
    assert reply["citations"][0]["ref"] == "guide.md#retries"
    with (
        server.client("alpha") as c,
        c.stream("POST", "/v1/chat/completions", json=body | {"stream": True}) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    streamed = "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks)
    assert streamed == content
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["citations"][0]["ref"] == "guide.md#retries"


def test_rate_limit_gives_429_with_retry_after(server: Server) -> None:
    statuses = []
    for _ in range(5):
        response = server.post("limited", "/v1/search", {"query": "retries", "collection": "alpha"})
        statuses.append(response.status_code)
        time.sleep(0.1)  # lets the other worker see the committed row
    assert statuses[:3] == [200, 200, 200] and 429 in statuses[3:]
    limited = server.post("limited", "/v1/search", {"query": "retries", "collection": "alpha"})
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_over_budget_degrades_to_search_only(server: Server) -> None:
    first = server.post("budget", "/v1/ask", ASK).json()
    time.sleep(0.1)
    server.post("budget", "/v1/ask", ASK)
    time.sleep(0.1)
    third = server.post("budget", "/v1/ask", ASK)
    assert first["degraded"] is None and first["answer"]
    body = third.json()
    assert third.status_code == 200 and body["answer"] is None
    assert body["degraded"] == "search-only" and "2 requests per day" in body["degraded_reason"]
    assert body["sources"], "search-only still returns the hits"


def test_answer_cache_hits_and_is_invalidated_by_an_ingest(server: Server) -> None:
    question = {"question": "What does backoff do between attempts?", "collection": "alpha"}
    with server.client("alpha_ingest") as c:
        answers = [c.post("/v1/ask", json=question).json() for _ in range(4)]
        assert any(a["cache_hit"] for a in answers)  # each of the two workers caches its own
        (server.root / "alpha" / "more.md").write_text("# More\n\nBackoff is capped at 60 s.\n")
        job = c.post("/v1/ingest", json={"path": "alpha", "collection": "alpha"}).json()
        for _ in range(100):
            state = c.get(f"/v1/jobs/{job['id']}").json()
            if state["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "done", state
        after = c.post("/v1/ask", json=question).json()
    assert after["index_version"] > answers[0]["index_version"]
    assert not after["cache_hit"]


def test_a_cache_hit_reports_and_logs_its_own_time(server: Server) -> None:
    question = {"question": "How often is a failed job attempted again?", "collection": "alpha"}
    search = {"query": "backoff wait between attempts", "collection": "alpha"}
    with server.client("alpha") as c:
        answers = [c.post("/v1/ask", json=question).json() for _ in range(6)]
        searches = [c.post("/v1/search", json=search).json() for _ in range(6)]
    for results in (answers, searches):
        misses = [r for r in results if not r["cache_hit"]]
        hits = [r for r in results if r["cache_hit"]]
        assert misses and hits  # each of the two workers caches its own
        slowest_hit = max(h["timings"]["total_ms"] for h in hits)
        assert slowest_hit < min(m["timings"]["total_ms"] for m in misses)
        assert len({h["timings"]["total_ms"] for h in hits}) == len(hits), "measured, not copied"
    time.sleep(0.5)  # the log writes in the background
    ids = [a["id"] for a in answers]
    with sqlite3.connect(server.home / "index.sqlite") as conn:
        rows = conn.execute(
            f"SELECT id, cache_hit, total_ms FROM requests WHERE id IN ({','.join('?' * 6)})", ids
        ).fetchall()
    logged = {row[0]: (bool(row[1]), row[2]) for row in rows}
    for answer in answers:
        assert logged[answer["id"]] == (answer["cache_hit"], answer["timings"]["total_ms"])


def test_ingest_paths_no_filesystem_accepts_are_a_4xx_on_a_live_connection(
    server: Server,
) -> None:
    with server.client("alpha_ingest") as c:  # one keep-alive connection throughout
        for path in ("docs\\u0000", "a" * 300, "alpha/" + "b" * 300, "\\ud800"):
            body = '{"path": "' + path + '", "collection": "alpha"}'  # raw JSON escapes
            headers = {"content-type": "application/json"}
            response = c.post("/v1/ingest", content=body.encode(), headers=headers)
            assert 400 <= response.status_code < 500, (path, response.text)
            assert response.json()["error"]["message"]
        assert c.get("/v1/collections").status_code == 200, "the connection still works"


def test_ingest_rejects_paths_outside_the_root(server: Server, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (server.root / "escape").symlink_to(outside)
    for path in ("..", "../..", "/etc", "escape", "alpha/../../"):
        response = server.post("admin", "/v1/ingest", {"path": path, "collection": "alpha"})
        assert response.status_code == 403, path
    body = {"path": "alpha/nothere", "collection": "alpha"}
    response = server.post("admin", "/v1/ingest", body)
    assert response.status_code == 404


def test_every_request_is_logged_and_feedback_attached(server: Server) -> None:
    answer = server.post("alpha", "/v1/ask", ASK).json()
    ok = server.post(
        "alpha",
        "/v1/feedback",
        {"answer_id": answer["id"], "rating": "down", "comment": "too long"},
    )
    assert ok.status_code == 200
    time.sleep(0.5)
    with sqlite3.connect(server.home / "index.sqlite") as conn:
        row = conn.execute(
            "SELECT question, answer, citations, abstained, confidence, retrieve_ms, key_id,"
            " cache_hit FROM requests WHERE id = ?",
            (answer["id"],),
        ).fetchone()
        rating = conn.execute(
            "SELECT rating, comment FROM feedback WHERE request_id = ?", (answer["id"],)
        ).fetchone()
    assert row[0] == ASK["question"] and row[1] == answer["answer"]
    assert json.loads(row[2])[0]["ref"] == "guide.md#retries"
    assert row[3] == 0 and row[4] > 0 and row[5] > 0 and row[6].startswith("key_")
    assert rating == (-1, "too long")


def test_report_and_gaps_to_eval(server: Server, tmp_path: Path) -> None:
    unanswerable = {"question": "How do I configure a Kubernetes ingress?", "collection": "alpha"}
    assert server.post("alpha", "/v1/ask", unanswerable).json()["abstained"]
    time.sleep(0.5)
    out = tmp_path / "gaps.jsonl"
    report = json.loads(
        cli(server.home, "report", "--since", "1d", "--json", "--gaps-to-eval", str(out))
    )
    assert report["requests"] > 5 and report["latency_ms"]["p50"] > 0
    assert 0 < report["abstention_rate"] < 1
    assert report["gaps"][0][0] == unanswerable["question"].lower()
    case = json.loads(out.read_text().splitlines()[0])
    assert case["question"] == unanswerable["question"].lower() and case["answerable"] is None
