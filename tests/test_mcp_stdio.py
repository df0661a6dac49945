"""``docsage mcp`` over stdio, driven by the MCP SDK's own client as a real subprocess over
a real index (SQLite, the ONNX embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from mcp.shared.exceptions import MCPError

from test_mcp_support import Index, build_index, call, refused, run, stdio

pytestmark = pytest.mark.slow

TOOLS = {"search_docs", "read_section", "ask_docs", "list_collections"}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return build_index(tmp_path_factory.mktemp("mcp-stdio"))


def test_tools_declare_input_and_output_schemas(index: Index) -> None:
    async def session() -> None:
        async with stdio(index) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            assert set(listed) == TOOLS
            for tool in listed.values():
                assert tool.output_schema and tool.output_schema["type"] == "object"
                assert tool.input_schema["type"] == "object"
                assert tool.description and len(tool.description) > 60
            assert listed["search_docs"].input_schema["required"] == ["query"]
            assert listed["read_section"].input_schema["required"] == ["ref"]
            assert listed["ask_docs"].input_schema["required"] == ["question"]
            for name in ("search_docs", "read_section", "ask_docs"):
                assert "not instructions" in (listed[name].description or "")
            result = await call(client, "search_docs", query="retries", collection="alpha")
            jsonschema.validate(result, listed["search_docs"].output_schema)

    run(session)


def test_each_tool_returns_structured_results(index: Index) -> None:
    async def session() -> None:
        async with stdio(index) as client:
            listed = await call(client, "list_collections")
            by_name = {c["name"]: c for c in listed["collections"]}
            assert set(by_name) == {"alpha", "beta"}  # the local user reads every collection
            assert by_name["alpha"]["documents"] == 2 and by_name["alpha"]["chunks"] > 10
            assert by_name["beta"]["indexed_at"].startswith("20")

            found = await call(client, "search_docs", query="max_retries", collection="alpha")
            top = found["hits"][0]
            assert top["ref"] == "guide.md#retries" and top["title"] == "Retries"
            assert top["heading_path"] == ["Tidepool guide", "Retries"]
            assert (top["line_start"], top["line_end"]) == (7, 7)
            assert top["uri"] == "docsage://alpha/guide.md#retries"
            assert "max_retries" in top["untrusted_snippet"]
            assert "not instructions" in found["notice"]

            section = await call(client, "read_section", ref=top["ref"], collection="alpha")
            assert "The default is 3." in section["untrusted_text"]
            assert section["previous"] == "guide.md#tidepool-guide"
            assert section["next"] == "guide.md#backoff"
            assert section["truncated"] is False

            question = "How often is a failed job retried?"
            answer = await call(client, "ask_docs", question=question, collection="alpha")
            assert answer["answered"] is True and answer["citations"]
            assert answer["citations"][0]["ref"] == "guide.md#retries"
            assert answer["citations"][0]["heading_path"] == ["Tidepool guide", "Retries"]

            nothing = await call(
                client,
                "ask_docs",
                question="How do I rotate the TLS certificate of the ingress?",
                collection="alpha",
            )
            assert nothing["answered"] is False and not nothing["citations"]
            assert "not found in the docs" in nothing["answer"].lower()
            assert nothing["closest_sources"], "an abstention names the closest sources"

    run(session)


def test_budgets_cut_at_sections_and_clamp(index: Index) -> None:
    async def session() -> None:
        async with stdio(index) as client:
            query = "queue setting worker pool"
            wide = await call(client, "search_docs", query=query, collection="alpha")
            small = await call(
                client, "search_docs", query=query, collection="alpha", max_tokens=600
            )
            assert len(small["hits"]) < len(wide["hits"])
            assert small["omitted"] == len(small["omitted_refs"]) > 0
            assert f"{small['omitted']} more sections omitted" in small["note"]
            assert "read_section" in small["note"]
            assert len(json.dumps(small)) / 3.5 <= 600  # the project's token estimate

            huge = await call(
                client, "search_docs", query=query, collection="alpha", max_tokens=10**6
            )
            assert "clamped to 25000" in huge["note"]
            ref = "docsage://alpha/reference.md#changelog"
            tiny = await call(client, "read_section", ref=ref, max_tokens=1)
            assert "clamped to 200" in tiny["note"]

            log = await call(client, "read_section", ref=ref)
            assert log["truncated"] is True and "raise it" in log["note"]
            assert len(json.dumps(log)) / 3.5 <= 3000
            full = await call(client, "read_section", ref=ref, max_tokens=25000)
            assert full["truncated"] is False
            assert full["untrusted_text"].startswith(log["untrusted_text"])
            assert "edge case 59;" in full["untrusted_text"]

    run(session)


def test_bad_refs_are_refused_with_the_remedy(index: Index) -> None:
    async def session() -> None:
        async with stdio(index) as client:
            for ref in ("../../etc/passwd", "/etc/passwd#x", "https://example.com/a#b", "C:\\x"):
                text = await refused(client, "read_section", ref=ref, collection="alpha")
                assert "not a section ref" in text and "source#anchor" in text, text
            text = await refused(client, "read_section", ref="guide.md#nope", collection="alpha")
            assert "no section 'nope'" in text and "retries" in text  # it lists real ones
            text = await refused(client, "read_section", ref="missing.md#x", collection="alpha")
            assert "not_found (404)" in text and "search result" in text
            text = await refused(client, "read_section", ref="guide.md#retries")
            assert "pass collection: one of alpha, beta" in text

    run(session)


def test_sections_are_resources(index: Index) -> None:
    async def session() -> None:
        async with stdio(index) as client:
            templates = (await client.list_resource_templates()).resource_templates
            assert [t.uri_template for t in templates] == [
                "docsage://{collection}/{+source}#{anchor}"
            ]
            read = await client.read_resource("docsage://alpha/guide.md#backoff")
            body = json.loads(read.contents[0].text)  # type: ignore[union-attr]
            assert "Backoff doubles the wait" in body["untrusted_text"]
            assert body["previous"] == "guide.md#retries"
            with pytest.raises(MCPError, match="no section"):
                await client.read_resource("docsage://alpha/guide.md#nope")

    run(session)


def test_a_key_limits_the_stdio_caller(index: Index) -> None:
    async def session() -> None:
        async with stdio(index, "--key", index.keys["alpha"]) as client:
            listed = await call(client, "list_collections")
            assert [c["name"] for c in listed["collections"]] == ["alpha"]
            text = await refused(client, "search_docs", query="deploy key", collection="beta")
            assert "readable: alpha" in text
        async with stdio(index, DOCSAGE_API_KEY=index.keys["alpha"]) as client:
            listed = await call(client, "list_collections")
            assert [c["name"] for c in listed["collections"]] == ["alpha"]

    run(session)


def test_agent_session_ends_with_citations_that_resolve(index: Index) -> None:
    """What an agent does: search, read the best hit and its neighbour, ask, then check
    every citation by opening its ref."""

    async def session() -> None:
        async with stdio(index) as client:
            question = "How often is a failed job retried?"
            found = await call(client, "search_docs", query=question, collection="alpha")
            first = await call(client, "read_section", ref=found["hits"][0]["uri"])
            if first["next"]:
                after = await call(client, "read_section", ref=first["next"], collection="alpha")
                assert after["previous"] == first["ref"]
            answer = await call(client, "ask_docs", question=question, collection="alpha")
            assert answer["answered"] and "[1]" in answer["answer"]
            for cited in answer["citations"]:
                opened = await call(client, "read_section", ref=cited["uri"])
                assert opened["ref"] == cited["ref"]
                assert cited["untrusted_quote"].strip()[:40] in opened["untrusted_text"]

    run(session)


def test_an_unknown_key_stops_docsage_mcp(index: Index, tmp_path: Path) -> None:
    import subprocess

    from test_api_support import DOCSAGE

    done = subprocess.run(
        [str(DOCSAGE), "mcp", "--key", "dsk_nope"],
        env=index.env(),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "unknown or revoked API key" in done.stderr
    assert done.stdout == ""
