"""The chat-model port and its data.

``ChatModel`` has one required method, ``complete``. Streaming is the same call with an
``on_token`` callback, so one driver serves streamed and unstreamed answers (no sync/async
twins): a front end that wants an iterator runs ``complete`` in a thread and feeds a queue.

Adapters are named ``"<provider>:<model>"``: ``openai:gpt-4o-mini`` (any OpenAI-compatible
server: OpenAI, vLLM, Ollama, the llama.cpp server), ``llamacpp:/path/model.gguf`` (in
process, the ``llamacpp`` extra) and ``fake:<name>`` (scripted, for tests). ``extractive``
names no chat model at all. ``docsage.adapters`` resolves the names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]
OnToken = Callable[[str], None]
JsonMode = Literal["json_schema", "json_object", "prompt"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The JSON text the model wrote; tools parse (and may reject) it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatRequest:
    messages: tuple[Message, ...]
    max_tokens: int = 512
    temperature: float = 0.0
    tools: tuple[ToolSpec, ...] = ()
    json_schema: dict[str, Any] | None = None
    """Constrain the reply to JSON matching this schema (where the server can)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatResponse:
    text: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"
    estimated: bool = False
    """True when the token counts are docsage's own estimate, not the server's."""
    first_token_ms: float = 0.0
    ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class ChatModel(Protocol):
    """A chat model. ``name`` is the registry spec it was made from (prices key on it) and
    ``context_window`` the tokens it can attend to, prompt and reply together."""

    name: str
    context_window: int

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        """One reply. When ``on_token`` is given the reply streams: each text piece is
        passed to it as it arrives, and the full response is still returned."""
        ...


class Pricer(Protocol):
    """What cost accounting needs of ``docsage.pricing.PriceTable``."""

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float: ...


class FreePricer:
    """Every model costs 0: for tests and for local-only setups."""

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        return 0.0


CHARS_PER_TOKEN = 3.5


def estimate_tokens(text: str) -> int:
    """ceil(len(text) / 3.5): a deliberately high estimate for English and code (BPE
    tokenizers average about 4 characters per token), used for packing prompts and when a
    server reports no usage. Never below 1 for non-empty text."""
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def estimate_messages(messages: tuple[Message, ...]) -> int:
    """Tokens of a prompt: its texts plus about 4 tokens of chat-template framing each."""
    return sum(estimate_tokens(m.content) + 4 for m in messages)


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatModelConfig:
    """What a chat-model factory is given besides the model name (``docsage.adapters``)."""

    base_url: str = "https://api.openai.com/v1"
    api_key: str = ""
    timeout_s: float = 60.0
    retries: int = 2
    context_window: int | None = None
    """Tokens the model attends to; None = the adapter's own default."""
    json_mode: JsonMode = "json_schema"
