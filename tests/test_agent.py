"""The agent loop with scripted models over a real SQLite index: tools, budgets, loop
detection, tool errors as observations, citation rules and verification of the answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.agent.loop import FINAL_TURN, AgentAnswerer, Budget
from docsage.agent.tools import DEFAULT_TOOLS, ToolContext, ToolError, grep_sources, list_sources
from docsage.app import Docsage
from docsage.models.chat import FreePricer
from docsage.models.fake import ScriptedChatModel, ScriptItem, tool_call
from docsage.ports.chat import ChatRequest
from docsage.settings import Settings

GUIDE = """\
# Guide

Install with pip install tidepool.

## Retries

Set max_retries to control how often a failed job is attempted again.

## Timeouts

Every request times out after timeout_s seconds.
"""
API = '''\
def connect(url: str, timeout_s: float = 5.0) -> None:
    """Open a connection to url; raises ConnectionError after timeout_s seconds."""
'''
GOOD = "Set max_retries to control how often a failed job is attempted again"
INVENTED = "Retries are billed per attempt in the enterprise plan"


@pytest.fixture
def ds(tmp_path: Path) -> Iterator[Docsage]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    (docs / "client.py").write_text(API)
    settings = Settings.from_env({}, home=tmp_path / "home", embedder="fake:hash")
    with Docsage(settings) as ds:
        ds.ingest(docs, collection="c")
        yield ds


def citing(ref: str, *sentences: str, number: int | None = None) -> ScriptItem:
    """A final answer whose sentences cite the number the tools gave ``ref``."""

    def reply(request: ChatRequest) -> str:
        seen = "\n".join(m.content for m in request.messages)
        found = re.search(rf"\[(\d+)\] {re.escape(ref)}", seen)
        n = number if number is not None else (int(found.group(1)) if found else 99)
        return " ".join(f"{s} [{n}]." for s in sentences)

    return reply


def agent(ds: Docsage, script: list[ScriptItem], **budget: float) -> AgentAnswerer:
    model = ScriptedChatModel(script)
    return AgentAnswerer(ds.retriever, model, pricer=FreePricer(), budget=Budget(**budget))  # type: ignore[arg-type]


def observations(answerer: AgentAnswerer) -> list[str]:
    model = answerer.model
    assert isinstance(model, ScriptedChatModel)
    return [m.content for m in model.requests[-1].messages if m.role == "tool"]


def test_searches_opens_and_answers_with_a_verified_citation(ds: Docsage) -> None:
    a = agent(
        ds,
        [
            tool_call("search_docs", query="max_retries"),
            tool_call("open_section", ref="guide.md#retries", neighbours=0),
            citing("guide.md#retries", GOOD),
        ],
    )
    answer = a.ask("how do I set retries?", "c")
    assert not answer.abstained
    assert [c.ref for c in answer.citations] == ["guide.md#retries"]
    assert answer.verification is not None and answer.verification.supported == 1
    kinds = [(s.kind, s.name) for s in answer.trace]
    assert kinds == [
        ("model", "fake:scripted"),
        ("tool", "search_docs"),
        ("model", "fake:scripted"),
        ("tool", "open_section"),
        ("model", "fake:scripted"),
    ]
    assert all(s.result_chars > 0 for s in answer.trace if s.kind == "tool")
    assert answer.usage[0].calls == 3 and answer.usage[0].input_tokens > 0
    assert answer.model == "agent:fake:scripted"


def test_verification_trims_an_unsupported_sentence(ds: Docsage) -> None:
    a = agent(
        ds,
        [tool_call("search_docs", query="max_retries"), citing("guide.md#retries", GOOD, INVENTED)],
    )
    answer = a.ask("how do I set retries?", "c")
    assert not answer.abstained and "enterprise" not in answer.text and "max_retries" in answer.text
    assert answer.verification is not None
    assert (answer.verification.checked, answer.verification.supported) == (2, 1)


def test_citing_a_source_never_seen_is_rejected(ds: Docsage) -> None:
    a = agent(ds, [tool_call("list_sources"), citing("guide.md#retries", GOOD, number=1)])
    answer = a.ask("how do I set retries?", "c")  # list_sources shows no passage: nothing seen
    assert answer.abstained and answer.citations == ()
    assert answer.verification is not None
    assert answer.verification.sentences[0].reason == "cites unknown source(s) [1]"


def test_tool_errors_go_back_to_the_model_as_observations(ds: Docsage) -> None:
    a = agent(
        ds,
        [
            [
                tool_call("open_section", "a", ref="nowhere.md"),
                tool_call("grep_sources", "b", pattern="("),
                tool_call("no_such_tool", "c"),
                tool_call("search_docs", "d", query="x", k=99),
            ],
            tool_call("search_docs", query="{"),
            "The docs don't cover this.",
        ],
    )
    answer = a.ask("q", "c")
    model = a.model
    assert isinstance(model, ScriptedChatModel)
    tool_messages = [m.content for m in model.requests[1].messages if m.role == "tool"]
    assert tool_messages[0].startswith("error: no source 'nowhere.md'")
    assert tool_messages[1].startswith("error: bad regular expression")
    assert tool_messages[2].startswith("error: no tool named 'no_such_tool'")
    assert "k must be between 1 and 10" in tool_messages[3]
    assert sum(1 for s in answer.trace if s.kind == "tool" and s.error) == 4
    assert answer.abstained


def test_bad_json_arguments_are_an_observation(ds: Docsage) -> None:
    from docsage.ports.chat import ToolCall

    a = agent(ds, [ToolCall(id="x", name="search_docs", arguments="{not json"), "No."])
    a.ask("q", "c")
    assert observations(a)[0].startswith("error: bad arguments for search_docs")


def test_step_limit_forces_a_final_turn_without_tools(ds: Docsage) -> None:
    a = agent(
        ds,
        [tool_call("search_docs", query="retries"), tool_call("search_docs", query="x")],
        max_steps=2,
    )
    answer = a.ask("q", "c")
    model = a.model
    assert isinstance(model, ScriptedChatModel)
    assert model.requests[0].tools and model.requests[1].tools == ()
    assert model.requests[1].messages[-1].content == FINAL_TURN
    assert answer.abstained and len(model.requests) == 2


def test_tool_call_limit(ds: Docsage) -> None:
    a = agent(
        ds,
        [
            [tool_call("search_docs", "1", query="a"), tool_call("search_docs", "2", query="b")],
            "The docs don't cover this.",
        ],
        max_tool_calls=1,
    )
    answer = a.ask("q", "c")
    assert observations(a)[1].startswith("error: no tool calls left")
    assert any(s.kind == "stop" and "tool-call limit" in s.detail for s in answer.trace)


def test_repeated_identical_calls_are_detected_and_end_tool_use(ds: Docsage) -> None:
    same = tool_call("search_docs", query="retries")
    a = agent(ds, [same, same, same, citing("guide.md#retries", GOOD)])
    answer = a.ask("q", "c")
    model = a.model
    assert isinstance(model, ScriptedChatModel)
    assert sum(1 for s in answer.trace if s.kind == "tool" and s.error == "repeated call") == 2
    assert model.requests[3].tools == () and not answer.abstained
    assert any(
        s.kind == "stop" and s.detail == "repeated identical tool calls" for s in answer.trace
    )


def test_token_budget_stops_the_run(ds: Docsage) -> None:
    a = agent(ds, [tool_call("search_docs", query="retries"), "unused"], max_tokens=50)
    answer = a.ask("q", "c")
    assert answer.abstained and "token budget spent" in answer.text
    assert [s.kind for s in answer.trace] == ["model", "tool", "stop"]


def test_time_budget_stops_before_any_call(ds: Docsage) -> None:
    a = agent(ds, ["unused"], max_seconds=0.0)
    answer = a.ask("q", "c")
    assert answer.abstained and "time budget spent" in answer.text and answer.usage[0].calls == 0


def test_cost_budget(ds: Docsage) -> None:
    class Pricey:
        def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
            return 1.0

    model = ScriptedChatModel([tool_call("search_docs", query="retries"), "unused"])
    a = AgentAnswerer(ds.retriever, model, pricer=Pricey(), budget=Budget(max_cost_usd=0.5))
    answer = a.ask("q", "c")
    assert "cost budget spent" in answer.text and answer.cost_usd == 1.0


# -- tools -------------------------------------------------------------------------------------


def test_tool_schemas_come_from_signatures_and_docstrings() -> None:
    specs = {t.name: t.spec for t in DEFAULT_TOOLS}
    assert set(specs) == {"search_docs", "open_section", "grep_sources", "list_sources"}
    search = specs["search_docs"]
    assert search.description.startswith("Search the docs")
    assert search.parameters["required"] == ["query"]
    props = search.parameters["properties"]
    assert props["query"] == {
        "type": "string",
        "description": "what to look for, in the words the docs would use.",
    }
    assert props["k"]["type"] == "integer" and props["k"]["default"] == 5
    assert specs["list_sources"].parameters["properties"]["api_only"]["type"] == "boolean"
    json.dumps([s.parameters for s in specs.values()])


def test_grep_list_and_open_by_lines(ds: Docsage) -> None:
    ctx = ToolContext(store=ds.store, retriever=ds.retriever, collection="c")
    grep = grep_sources(ctx, r"timeout_s\b")
    assert "client.py" in grep and "guide.md#timeouts" in grep and grep.startswith("[")
    assert list_sources(ctx) == "client.py\nguide.md"
    assert "client.py#connect" in list_sources(ctx, api_only=True)
    tool = {t.name: t for t in DEFAULT_TOOLS}["open_section"]
    opened = tool(ctx, json.dumps({"ref": "guide.md", "lines": "7-7", "neighbours": 0}))
    assert "max_retries" in opened and "Every request" not in opened
    with pytest.raises(ToolError, match="lines must look like"):
        tool(ctx, json.dumps({"ref": "guide.md", "lines": "seven"}))
    assert set(ctx.sources) == set(ctx.numbers.values())


def test_agent_mode_needs_a_chat_model(ds: Docsage) -> None:
    from docsage.errors import ConfigError

    with pytest.raises(ConfigError, match="agent mode needs a chat model"):
        ds.ask("q", collection="c", agent=True, model="extractive")
