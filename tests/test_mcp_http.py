"""MCP over Streamable HTTP at /mcp on a real ``docsage serve`` (two workers, loopback),
driven by the MCP SDK's client: the REST API's keys, tenant isolation, rate limits and
request log, and the transport's Host/Origin checks."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from test_api_support import start, stop
from test_mcp_support import Index, build_index, call, http, refused, run

pytestmark = pytest.mark.slow

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


@dataclass
class Served:
    url: str
    index: Index

    def post(self, key: str | None, **headers: str) -> httpx.Response:
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.post(
            self.url + "/mcp", json=INIT, headers={**ACCEPT, **auth, **headers}, timeout=30
        )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    index = build_index(tmp_path_factory.mktemp("mcp-http"))
    url, process = start(index.home, {"DOCSAGE_MCP_ALLOWED_HOSTS": "docs.example.com"})
    yield Served(url=url, index=index)
    assert stop(process) == 0


def test_missing_or_unknown_key_is_refused(served: Served) -> None:
    for key in (None, "dsk_nope"):
        response = served.post(key)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"]["type"] == "unauthorized"
    assert "docsage keys create" in served.post(None).json()["error"]["message"]

    async def session() -> None:
        async with http(served.url, "dsk_nope") as client:
            await client.list_tools()

    with pytest.raises(BaseException) as caught:
        run(session)
    # The SDK client reports a refused POST as an MCPError (its message names no status).
    assert any(m.startswith("MCPError") for m in _messages(caught.value)), caught.value


def _messages(exc: BaseException) -> list[str]:
    """The messages of an exception and of every exception grouped or chained in it."""
    inner = list(getattr(exc, "exceptions", ())) + [e for e in (exc.__cause__,) if e]
    return [f"{type(exc).__name__}: {exc}", *(m for e in inner for m in _messages(e))]


def test_host_and_origin_are_checked(served: Served) -> None:
    key = served.index.keys["alpha"]
    assert served.post(key).status_code == 200
    assert served.post(key, Host="evil.example.net").status_code == 421
    assert served.post(key, Host="docs.example.com").status_code == 200  # configured
    assert served.post(key, Origin="http://evil.example.net").status_code == 403
    assert served.post(key, Origin=served.url).status_code == 200


def test_a_key_for_alpha_cannot_reach_or_name_beta(served: Served) -> None:
    async def session() -> list[str]:
        async with http(served.url, served.index.keys["alpha"]) as client:
            listed = await call(client, "list_collections")
            assert [c["name"] for c in listed["collections"]] == ["alpha"]
            found = await call(client, "search_docs", query="rotate the deploy key")
            assert found["collection"] == "alpha"
            assert all(h["collection"] == "alpha" for h in found["hits"])
            texts = [
                await refused(client, "search_docs", query="deploy key", collection="beta"),
                await refused(client, "ask_docs", question="Key rotation?", collection="beta"),
                await refused(client, "read_section", ref="docsage://beta/handbook.md#deploy-keys"),
                await refused(
                    client, "read_section", ref="handbook.md#deploy-keys", collection="beta"
                ),
            ]
            missing = await refused(client, "search_docs", query="x", collection="gamma")
            assert missing.replace("gamma", "beta") == texts[0]  # beta is as unknown as gamma
            with pytest.raises(BaseException) as caught:
                await client.read_resource("docsage://beta/handbook.md#deploy-keys")
            return [*texts, str(caught.value)]

    for text in run(session):
        assert "readable: alpha" in text or "not_found" in text, text
        assert "handbook" not in text.replace("handbook.md#deploy-keys", "")
        assert "ninety days" not in text


def test_rate_limit_applies_to_mcp_calls(served: Served) -> None:
    async def session() -> tuple[list[bool], str]:
        async with http(served.url, served.index.keys["limited"]) as client:
            ok = []
            for _ in range(3):
                result = await client.call_tool("search_docs", {"query": "retries"})
                ok.append(not result.is_error)
            return ok, await refused(client, "search_docs", query="retries")

    ok, text = run(session)
    assert ok == [True, True, True]
    assert text.startswith("Error executing tool search_docs: rate_limited (429)")
    assert "retry in" in text


def test_the_request_log_records_mcp_calls(served: Served) -> None:
    key = served.index.keys["both"]

    async def session() -> None:
        async with http(served.url, key) as client:
            await call(client, "search_docs", query="backoff", collection="alpha")
            await call(client, "read_section", ref="guide.md#backoff", collection="alpha")
            await call(client, "ask_docs", question="How does backoff work?", collection="alpha")
            await refused(client, "read_section", ref="guide.md#nope", collection="alpha")

    run(session)
    rows: list[tuple[str, int, str]] = []
    for _ in range(50):
        with sqlite3.connect(served.index.home / "index.sqlite") as db:
            rows = db.execute(
                "SELECT r.route, r.status, r.collection FROM requests r JOIN api_keys k"
                " ON k.id = r.key_id WHERE k.name = 'both' ORDER BY r.created_at"
            ).fetchall()
        if len(rows) >= 4:
            break
        time.sleep(0.2)
    assert [r[0] for r in rows] == [
        "mcp:search_docs",
        "mcp:read_section",
        "mcp:ask_docs",
        "mcp:read_section",
    ]
    assert [r[1] for r in rows] == [200, 200, 200, 404]  # the unknown section is a 404
    assert {r[2] for r in rows} == {"alpha"}


def test_agent_session_over_http(served: Served) -> None:
    async def session() -> None:
        async with http(served.url, served.index.keys["both"]) as client:
            question = "How often is a failed job retried?"
            found = await call(client, "search_docs", query=question, collection="alpha")
            await call(client, "read_section", ref=found["hits"][0]["uri"])
            answer = await call(client, "ask_docs", question=question, collection="alpha")
            assert answer["answered"] and answer["citations"]
            for cited in answer["citations"]:
                opened = await call(client, "read_section", ref=cited["uri"])
                assert cited["untrusted_quote"].strip()[:40] in opened["untrusted_text"]

    run(session)


def test_a_key_over_its_budget_gets_sources_not_an_answer(served: Served) -> None:
    async def session() -> tuple[dict[str, Any], dict[str, Any]]:
        async with http(served.url, served.index.keys["budget"]) as client:
            question = "How often is a failed job retried?"
            first = await call(client, "ask_docs", question=question)
            return first, await call(client, "ask_docs", question=question)

    first, second = run(session)
    assert first["answered"] is True
    assert second["answered"] is False and not second["citations"]
    assert second["answer"].startswith("not answered: ") and "budget" in second["answer"]
    assert second["closest_sources"][0]["ref"] == "guide.md#retries"
