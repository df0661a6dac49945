"""``docsage ask --model/--agent/--stream/--trace`` and ``docsage eval --model`` as real
subprocesses, with the shipped ``fake:echo`` chat model (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli import GUIDE, run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    home = tmp_path / "home"
    run(home, "ingest", str(docs), "-c", "c", "-q")
    return home


QUESTION = "How often is a failed job attempted again with max_retries?"


def test_ask_with_a_model_streams_verified_text_and_prints_the_check(home: Path) -> None:
    out = run(
        home, "ask", QUESTION, "-c", "c", "--model", "fake:echo", "--stream", "--trace"
    ).stdout
    assert "Set max_retries to control how often a failed job is attempted again. [1]" in out
    assert "Checked 1/1 sentences supported" in out
    assert "first token" in out and "fake:echo" in out and "tokens" in out
    assert "trace" in out and "model" in out


def test_ask_json_carries_usage_verification_and_trace(home: Path) -> None:
    body = json.loads(
        run(home, "ask", QUESTION, "-c", "c", "--model", "fake:echo", "--json").stdout
    )
    assert body["model"] == "fake:echo" and body["usage"][0]["input_tokens"] > 0
    assert body["verification"]["checked"] == body["verification"]["supported"] == 1
    assert body["trace"][0]["kind"] == "model" and "first_token_ms" in body["timings"]


def test_the_model_setting_picks_the_answerer(home: Path) -> None:
    out = run(home, "ask", QUESTION, "-c", "c", "--json", env={"DOCSAGE_MODEL": "fake:echo"})
    assert json.loads(out.stdout)["model"] == "fake:echo"
    default = json.loads(run(home, "ask", QUESTION, "-c", "c", "--json").stdout)
    assert default["model"] == "extractive" and default["verification"] is None


def test_agent_mode_prints_its_trace(home: Path) -> None:
    """``fake:echo`` never calls a tool: it quotes source [1] of its prompt, and an agent's
    first prompt has no sources. So the agent run is one model call and an abstention, not
    an uncited answer; the trace and the usage say so, and agree on the tokens spent."""
    args = ("ask", QUESTION, "-c", "c", "--agent", "--model", "fake:echo")
    body = json.loads(run(home, *args, "--json").stdout)
    assert body["model"] == "agent:fake:echo"
    assert body["abstained"] and body["citations"] == []
    assert [s["sentence"] for s in body["verification"]["sentences"]] == [
        "The docs don't cover this."
    ]
    [step] = body["trace"]
    assert (step["kind"], step["name"], step["detail"]) == ("model", "fake:echo", "finish=stop")
    [usage] = body["usage"]
    assert usage["calls"] == 1 and step["input_tokens"] == usage["input_tokens"] > 0
    assert step["output_tokens"] == usage["output_tokens"] > 0
    out = run(home, *args, "--trace").stdout
    tokens = usage["input_tokens"] + usage["output_tokens"]
    assert "Not found in the docs" in out and f"agent:fake:echo · {tokens} tokens" in out
    row = next(line for line in out.splitlines() if line.startswith("│ 1 "))
    assert "model" in row and f" {usage['input_tokens']} " in row


def test_agent_mode_without_a_model_is_a_usage_error(home: Path) -> None:
    result = run(home, "ask", QUESTION, "-c", "c", "--agent", check=False)
    assert result.returncode == 2 and "agent mode needs a chat model" in result.stderr


def test_an_unknown_model_is_a_usage_error(home: Path) -> None:
    result = run(home, "ask", QUESTION, "-c", "c", "--model", "gpt4", check=False)
    assert result.returncode == 2 and "unknown chat model 'gpt4'" in result.stderr
    assert "'openai:<model>'" in result.stderr, "the error lists the names that work"


def test_eval_with_a_model_reports_tokens_and_the_model(home: Path, tmp_path: Path) -> None:
    cases = tmp_path / "q.jsonl"
    cases.write_text(
        json.dumps({"id": "q1", "question": QUESTION, "gold_sources": ["guide.md#retries"]}) + "\n"
    )
    run(
        home,
        "eval",
        str(cases),
        "-c",
        "c",
        "--model",
        "fake:echo",
        "--out",
        str(tmp_path / "o"),
        "-q",
    )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["run"]["model"] == "fake:echo"
    assert summary["metrics"]["tokens.mean"]["value"] > 0
    assert summary["metrics"]["groundedness.lexical"]["value"] == 1.0
