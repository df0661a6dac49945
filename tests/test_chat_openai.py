"""The OpenAI-compatible chat adapter against a stand-in server on loopback (real sockets,
HTTP and server-sent events), for what the real llama.cpp server cannot be made to do on
demand: 5xx and 429 answers, stalls, tool calls, a usage chunk at the end of a stream.
``test_chat_llamacpp_server.py`` runs the same adapter against the real server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from docsage import deadline
from docsage.adapters import make_chat_model
from docsage.errors import (
    ConfigError,
    DeadlineExceeded,
    ModelError,
    ModelRejectedError,
    ModelTimeoutError,
    ModelUnavailableError,
    TransientModelError,
)
from docsage.models.chat import ChatModelConfig
from docsage.models.fake import EchoChatModel, ScriptedChatModel
from docsage.models.openai_chat import OpenAIChatModel
from docsage.ports.chat import ChatModel, ChatRequest, Message, ToolSpec
from docsage.testing.chat_contract import ChatModelContract
from loopback import JsonHandler, LoopbackServer, serving, write_sse_words

HELLO = (Message(role="user", content="Say hello."),)


class FakeChatServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.fail_with: list[int] = []
        self.stall_s = 0.0
        self.retry_after = ""
        self.reply = "Hello there, friend."
        self.tool_calls: list[dict[str, Any]] = []
        self.usage_in_stream = True
        self.requests: list[dict[str, Any]] = []


class _Handler(JsonHandler):
    server: FakeChatServer

    def do_POST(self) -> None:
        body = self.read_json()
        self.server.requests.append({"body": body, "auth": self.headers.get("Authorization")})
        time.sleep(self.server.stall_s)
        if self.server.fail_with:
            self.send_response(self.server.fail_with.pop(0))
            raw = json.dumps({"error": {"message": "overloaded"}}).encode()
            if self.server.retry_after:
                self.send_header("Retry-After", self.server.retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        elif body.get("stream"):
            self._stream()
        else:
            message: dict[str, Any] = {"role": "assistant", "content": self.server.reply}
            if self.server.tool_calls:
                message["tool_calls"] = self.server.tool_calls
            usage = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self.send_json(200, {"choices": [choice], "usage": usage})

    def _stream(self) -> None:
        write_sse_words(self, self.server.reply)
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\n".encode())
        if self.server.usage_in_stream:
            usage = {"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 3}}
            self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture()
def server() -> Iterator[FakeChatServer]:
    with serving(FakeChatServer()) as srv:
        yield srv


OPEN: list[OpenAIChatModel] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def model(server: FakeChatServer, **kwargs: Any) -> OpenAIChatModel:
    made = OpenAIChatModel("small", base_url=server.url, **kwargs)
    OPEN.append(made)
    return made


def test_a_reply_with_the_servers_usage(server: FakeChatServer) -> None:
    reply = model(server, api_key="sk-x").complete(ChatRequest(messages=HELLO, max_tokens=16))
    assert reply.text == "Hello there, friend." and reply.model == "openai:small"
    assert (reply.input_tokens, reply.output_tokens, reply.estimated) == (11, 5, False)
    sent = server.requests[0]
    assert sent["auth"] == "Bearer sk-x" and sent["body"]["max_tokens"] == 16
    assert sent["body"]["messages"] == [{"role": "user", "content": "Say hello."}]


def test_streaming_passes_pieces_on_and_measures_the_first_token(server: FakeChatServer) -> None:
    pieces: list[str] = []
    reply = model(server).complete(ChatRequest(messages=HELLO), pieces.append)
    assert "".join(pieces) == reply.text == "Hello there, friend. "
    assert len(pieces) == 3 and 0 < reply.first_token_ms <= reply.ms
    assert (reply.input_tokens, reply.output_tokens, reply.estimated) == (11, 3, False)
    assert server.requests[0]["body"]["stream_options"] == {"include_usage": True}


def test_a_stream_without_usage_is_counted_and_marked_estimated(server: FakeChatServer) -> None:
    server.usage_in_stream = False
    reply = model(server).complete(ChatRequest(messages=HELLO), lambda piece: None)
    assert reply.estimated and reply.output_tokens == 3  # one token per delta
    assert reply.input_tokens == 11  # the server's count, from the max_tokens=1 probe
    probe = server.requests[1]["body"]
    assert probe["max_tokens"] == 1 and not probe["stream"]


def test_transient_statuses_are_retried(server: FakeChatServer) -> None:
    server.fail_with = [503, 429]
    assert model(server, retries=2).complete(ChatRequest(messages=HELLO)).text
    assert len(server.requests) == 3


def test_a_retry_waits_as_long_as_retry_after_asks(server: FakeChatServer) -> None:
    server.fail_with, server.retry_after = [429], "1"
    started = time.perf_counter()
    assert model(server, retries=1).complete(ChatRequest(messages=HELLO)).text
    assert time.perf_counter() - started >= 1.0 and len(server.requests) == 2


def test_no_retry_starts_that_the_deadline_cannot_wait_for(server: FakeChatServer) -> None:
    server.fail_with, server.retry_after = [503, 503], "5"
    started = time.perf_counter()
    with deadline.within(1.0), pytest.raises(ModelUnavailableError, match="503"):
        model(server, retries=3).complete(ChatRequest(messages=HELLO))
    assert time.perf_counter() - started < 0.9 and len(server.requests) == 1


def test_retries_give_up_with_a_transient_error(server: FakeChatServer) -> None:
    server.fail_with = [502, 502]
    with pytest.raises(ModelUnavailableError, match="502"):
        model(server, retries=1).complete(ChatRequest(messages=HELLO))


def test_a_gateway_timeout_status_is_a_timeout(server: FakeChatServer) -> None:
    server.fail_with = [504]
    with pytest.raises(ModelTimeoutError, match="504"):
        model(server, retries=0).complete(ChatRequest(messages=HELLO))


def test_a_client_error_fails_at_once(server: FakeChatServer) -> None:
    server.fail_with = [400]
    with pytest.raises(ModelRejectedError, match=r"400.*overloaded") as info:
        model(server, retries=3).complete(ChatRequest(messages=HELLO))
    assert not isinstance(info.value, TransientModelError) and len(server.requests) == 1


def test_a_stall_is_a_timeout_not_an_unreachable_server(server: FakeChatServer) -> None:
    server.stall_s = 1.0
    with pytest.raises(ModelTimeoutError, match=r"no answer within 0\.2 s"):
        model(server, timeout_s=0.2, retries=0).complete(ChatRequest(messages=HELLO))


def test_nobody_listening_is_an_unreachable_server() -> None:
    chat = OpenAIChatModel("m", base_url="http://127.0.0.1:9/v1", retries=0)
    with pytest.raises(ModelUnavailableError, match="unreachable"):
        chat.complete(ChatRequest(messages=HELLO))


@pytest.mark.parametrize("stream", [False, True])
def test_the_request_deadline_cuts_the_call_short(server: FakeChatServer, stream: bool) -> None:
    """A model timeout of 30 s, but 0.3 s left of the request: the call ends at the deadline
    (not a retryable model timeout, so routing does not fall back past the deadline)."""
    server.stall_s = 2.0
    started = time.perf_counter()
    with deadline.within(0.3), pytest.raises(DeadlineExceeded, match="cancelled"):
        model(server, timeout_s=30, retries=2).complete(
            ChatRequest(messages=HELLO), (lambda _: None) if stream else None
        )
    assert time.perf_counter() - started < 1.5 and len(server.requests) == 1


def test_tools_and_tool_calls(server: FakeChatServer) -> None:
    server.tool_calls = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "search_docs", "arguments": '{"query": "x"}'},
        }
    ]
    spec = ToolSpec(name="search_docs", description="Search.", parameters={"type": "object"})
    reply = model(server).complete(ChatRequest(messages=HELLO, tools=(spec,)))
    assert reply.tool_calls[0].name == "search_docs" and reply.tool_calls[0].arguments
    assert server.requests[0]["body"]["tools"][0]["function"]["name"] == "search_docs"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("json_schema", "json_schema"), ("json_object", "json_object"), ("prompt", None)],
)
def test_json_modes(server: FakeChatServer, mode: str, expected: str | None) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    model(server, json_mode=mode).complete(ChatRequest(messages=HELLO, json_schema=schema))
    sent = server.requests[0]["body"].get("response_format")
    assert (sent or {}).get("type") == expected


def test_registry_by_name() -> None:
    assert make_chat_model("extractive") is None
    made = make_chat_model("openai:gpt-4o-mini", ChatModelConfig(base_url="http://127.0.0.1:9/v1"))
    assert isinstance(made, OpenAIChatModel) and made.name == "openai:gpt-4o-mini"
    assert isinstance(make_chat_model("fake:echo"), EchoChatModel)
    with pytest.raises(ConfigError, match=r"unknown chat model 'gpt4'.*'openai:<model>'"):
        make_chat_model("gpt4")
    with pytest.raises(ConfigError, match="name the model: openai:<model>"):
        make_chat_model("openai")
    with pytest.raises(ConfigError, match="no GGUF model file"):
        make_chat_model("llamacpp:/nonexistent.gguf")


def test_fakes_satisfy_the_protocol() -> None:
    assert isinstance(ScriptedChatModel([]), ChatModel)
    assert isinstance(EchoChatModel(), ChatModel)
    with pytest.raises(ModelError, match="script ran out"):
        ScriptedChatModel([]).complete(ChatRequest(messages=HELLO))


class TestOpenAIChatModel(ChatModelContract):
    @pytest.fixture
    def model(self, server: FakeChatServer) -> ChatModel:
        return model(server)


class TestScriptedFake(ChatModelContract):
    @pytest.fixture
    def model(self) -> ChatModel:
        return EchoChatModel()
