"""Structured output with scripted models: validation, the bounded repair retry, and the
grounded JSON answer going through verification."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from docsage.answer.structured import AnswerJSON, complete_json, parse
from docsage.app import Docsage
from docsage.errors import ModelError
from docsage.models.fake import ScriptedChatModel
from docsage.ports.chat import Message
from docsage.settings import Settings

GUIDE = """# Guide

## Retries

Set max_retries to control how often a failed job is attempted again.
"""
ASK = (Message(role="user", content="q"),)


class Point(BaseModel):
    x: int
    y: int


def test_parse_accepts_a_fenced_reply() -> None:
    assert parse('```json\n{"x": 1, "y": 2}\n```', Point) == Point(x=1, y=2)


def test_a_valid_reply_needs_no_repair_and_sends_the_schema() -> None:
    model = ScriptedChatModel(['{"x": 1, "y": 2}'])
    point, responses = complete_json(model, ASK, Point)
    assert point == Point(x=1, y=2) and len(responses) == 1
    request = model.requests[0]
    assert request.json_schema == Point.model_json_schema()
    assert "JSON schema" in request.messages[-1].content


def test_one_repair_turn_shows_the_errors() -> None:
    model = ScriptedChatModel(['{"x": "one"}', '{"x": 1, "y": 2}'])
    point, responses = complete_json(model, ASK, Point)
    assert point.x == 1 and len(responses) == 2
    repair = model.requests[1].messages[-1].content
    assert (
        repair.startswith("That reply is not valid")
        and "x:" in repair
        and "y: Field required" in repair
    )


def test_repairs_are_bounded() -> None:
    model = ScriptedChatModel(["nope", "still nope", "never asked"])
    with pytest.raises(ModelError, match="no valid Point JSON after 1 repair"):
        complete_json(model, ASK, Point, repairs=1)
    assert len(model.requests) == 2


@pytest.fixture
def ds(tmp_path: Path) -> Iterator[Docsage]:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(GUIDE)
    settings = Settings.from_env({}, home=tmp_path / "home", embedder="fake:hash")
    with Docsage(settings) as ds:
        ds.ingest(tmp_path / "docs", collection="c")
        yield ds


def test_structured_answer_is_verified(ds: Docsage) -> None:
    reply = AnswerJSON(
        answer="Set max_retries to control how often a failed job is attempted "
        "again [1]. It is free on weekends [1].",
        cited=[1],
    ).model_dump_json()
    ds.add_chat_model("fake:scripted", ScriptedChatModel(["{broken", reply]))
    obj, answer = ds.ask_structured(
        "how do I set max_retries?", output=AnswerJSON, collection="c", model="fake:scripted"
    )
    assert "weekends" not in obj.answer and obj.answer == answer.text and not obj.abstain
    assert obj.cited == [1] and answer.verification is not None
    assert (answer.verification.checked, answer.verification.supported) == (2, 1)
    assert len(answer.usage) == 2 and len(answer.trace) == 2  # the repair turn is counted


def test_structured_answer_abstains_without_calling_the_model_when_retrieval_is_weak(
    ds: Docsage,
) -> None:
    model = ScriptedChatModel([])  # any call would fail: the script is empty
    ds.add_chat_model("fake:scripted", model)
    obj, answer = ds.ask_structured(
        "What is the airspeed of an unladen swallow?",
        output=AnswerJSON,
        collection="c",
        model="fake:scripted",
    )
    assert obj.abstain and answer.abstained and answer.usage == ()
    assert model.requests == [] and obj.answer.startswith("Not found in the docs")


def test_chat_judge_asks_for_a_validated_verdict() -> None:
    from docsage.evals.judge import ChatJudge

    model = ScriptedChatModel(['{"supported": true}', "maybe?", '{"supported": false}'])
    judge = ChatJudge(model)
    assert judge.supports("Retries default to 3.", ["The default is 3 retries."]) is True
    assert judge.supports("It is free.", ["The default is 3 retries."]) is False
    assert judge.calls == 3 and judge.input_tokens > 0
    assert "Claim: It is free." in model.requests[1].messages[0].content
