"""The official ``openai`` SDK against a real ``docsage serve`` on 127.0.0.1: streaming,
multi-turn, JSON mode, refused parameters, models and embeddings, and admission (429)
before a stream starts. The extractive default answers, so no model server is needed."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import openai
import pytest
from pydantic import BaseModel

from docsage.api.openai_history import rule_rewrite
from docsage.api.openai_params import OutputLimit
from test_api_support import cli, new_key, start, stop

INSTALL = """\
# Tidepool

## Installing tidepool

Install tidepool with pip install tidepool.

## Removing tidepool

Remove tidepool again with pip uninstall tidepool, then delete ~/.tidepool.
"""

REEF = """\
# Reef

## Installing reef

Install reef with the reef-setup installer.

## Removing reef

Remove reef with reef-setup --purge; it also removes the reef cache.
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    base = tmp_path_factory.mktemp("oai")
    home, docs = base / "home", base / "docs"
    docs.mkdir()
    (docs / "tidepool.md").write_text(INSTALL)
    (docs / "reef.md").write_text(REEF)
    (base / "other").mkdir()
    (base / "other" / "secret.md").write_text("# Secret\n\nThe vault code is 1234.\n")
    cli(home, "ingest", str(docs), "-c", "tools", "-q")
    cli(home, "ingest", str(base / "other"), "-c", "other", "-q")
    keys = {
        "tools": new_key(home, "tools", "--scopes", "ask", "--collections", "tools"),
        "limited": new_key(home, "lim", "--collections", "tools", "--rpm", "1"),
    }
    url, process = start(home, {"DOCSAGE_ANSWER_CACHE_SIZE": "0"})
    yield url, keys
    assert stop(process) == 0


@pytest.fixture()
def client(served: tuple[str, dict[str, str]]) -> Iterator[openai.OpenAI]:
    url, keys = served
    with openai.OpenAI(base_url=url + "/v1", api_key=keys["tools"], max_retries=0) as c:
        yield c


ASK = [{"role": "user", "content": "How do I install tidepool?"}]


def test_streaming_has_one_id_created_and_a_separate_usage_chunk(client: openai.OpenAI) -> None:
    plain = client.chat.completions.create(model="docsage:tools", messages=ASK)  # type: ignore[arg-type]
    stream = client.chat.completions.create(
        model="docsage:tools",
        messages=ASK,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert all(c.created > 1_700_000_000 for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert "tidepool.md#installing-tidepool" in text
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_a_follow_up_uses_the_earlier_turns(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model="docsage:tools", messages=ASK)  # type: ignore[arg-type]
    follow_up = [
        *ASK,
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "And how do I remove it again?"},
    ]
    reply = client.chat.completions.create(model="docsage:tools", messages=follow_up)  # type: ignore[arg-type]
    content = reply.choices[0].message.content or ""
    assert "pip uninstall tidepool" in content
    assert "tidepool.md#removing-tidepool" in content


def test_json_mode_answers_json_with_citations(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model="docsage:tools",
        messages=ASK,  # type: ignore[arg-type]
        response_format={"type": "json_object"},
    )
    body = json.loads(reply.choices[0].message.content or "")
    assert "pip install tidepool" in body["answer"] and body["abstained"] is False
    assert body["citations"][0]["ref"] == "tidepool.md#installing-tidepool"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"tool_choice": "required"}, "tool_choice"),
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
    ],
)
def test_unsupported_parameters_are_refused_in_openais_shape(
    client: openai.OpenAI, extra: dict[str, object], param: str | None
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="docsage:tools", messages=ASK, **extra)  # type: ignore[call-overload]
    error = caught.value
    assert error.status_code == 400 and error.code == "unsupported_parameter"
    assert error.param == (param or "response_format")
    assert isinstance(error.body, dict) and error.body["type"] == "invalid_request_error"


class Cited(BaseModel):
    number: int
    ref: str
    quote: str


class DocsAnswer(BaseModel):
    answer: str
    abstained: bool
    citations: list[Cited]


def test_a_json_schema_docsage_can_satisfy_is_honoured(client: openai.OpenAI) -> None:
    """The SDK's structured-output helper sends a strict json_schema of the pydantic model
    and parses the reply with it."""
    reply = client.chat.completions.parse(
        model="docsage:tools",
        messages=ASK,  # type: ignore[arg-type]
        response_format=DocsAnswer,
    )
    parsed = reply.choices[0].message.parsed
    assert parsed is not None and not parsed.abstained and "pip install tidepool" in parsed.answer
    assert parsed.citations[0].ref == "tidepool.md#installing-tidepool"


@pytest.mark.parametrize(
    ("schema", "code"),
    [
        ({"type": "object", "required": ["temperature"]}, "unsupported_schema"),
        ({"type": "object", "properties": {"answer": {"type": "integer"}}}, "unsupported_schema"),
        ({"type": "no-such-type"}, "invalid_value"),
    ],
)
def test_a_json_schema_docsage_cannot_satisfy_is_refused_before_answering(
    client: openai.OpenAI, schema: dict[str, object], code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="docsage:tools",
            messages=ASK,  # type: ignore[arg-type]
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},  # type: ignore[typeddict-item]
        )
    assert caught.value.code == code and caught.value.param == "response_format.json_schema"


def test_max_tokens_and_stop_are_honoured(client: openai.OpenAI) -> None:
    short = client.chat.completions.create(model="docsage:tools", messages=ASK, max_tokens=4)  # type: ignore[arg-type]
    assert short.choices[0].finish_reason == "length"
    assert 0 < len(short.choices[0].message.content or "") <= 14
    stream = client.chat.completions.create(
        model="docsage:tools",
        messages=ASK,  # type: ignore[arg-type]
        stop=["Sources:"],
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert "pip install tidepool" in text and "Sources" not in text


def test_models_and_embeddings(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["docsage:tools"]
    assert client.models.retrieve("docsage:tools").id == "docsage:tools"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("docsage:other")  # exists, but belongs to another tenant
    vectors = client.embeddings.create(model="any", input=["pip install", "uninstall"])
    assert [len(d.embedding) for d in vectors.data] == [384, 384]
    again = client.embeddings.create(model="any", input="pip install", encoding_format="float")
    assert again.data[0].embedding == pytest.approx(vectors.data[0].embedding, abs=1e-5)
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="any", input=["x"] * 65)


def test_a_rate_limited_stream_gets_429_with_retry_after_before_any_event(
    served: tuple[str, dict[str, str]],
) -> None:
    url, keys = served
    body = {"model": "docsage:tools", "messages": ASK, "stream": True}
    headers = {"Authorization": f"Bearer {keys['limited']}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
        assert c.post("/v1/chat/completions", json=body).status_code == 200
        limited = c.post("/v1/chat/completions", json=body)
    assert limited.status_code == 429, limited.text
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()["error"]["type"] == "rate_limited"


def test_a_stop_sequence_split_across_pieces_is_caught_and_never_sent() -> None:
    limit = OutputLimit(stop=("END",))
    sent = limit.feed("one two E") + limit.feed("N") + limit.feed("D three") + limit.close()
    assert sent == "one two " and limit.finish_reason == "stop"
    limit = OutputLimit(stop=("END",))
    assert limit.feed("one E") + limit.feed("nd") + limit.close() == "one End"


def test_the_rule_rewrite_keeps_the_topic_through_a_chain_of_follow_ups() -> None:
    turns = ["How do I install tidepool?", "And how do I remove it again?", "Does that need root?"]
    assert rule_rewrite(turns[:2]) == "How do I remove tidepool again?"
    assert rule_rewrite(turns) == "Does tidepool need root?"
    assert rule_rewrite(["How do I install tidepool?", "Where are logs kept?"]) == (
        "Where are logs kept?"
    )
