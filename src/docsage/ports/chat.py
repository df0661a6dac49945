"""The chat-model port and its data, and the answerer port features implement.

``ChatModel`` has one required method, ``complete``. Streaming is the same call with an
``on_token`` callback, so one driver serves streamed and unstreamed answers (no sync/async
twins): a front end that wants an iterator runs ``complete`` in a thread and feeds a queue.
Adapters are in ``models/`` (contract: ``docsage.testing.chat_contract``), named by
``docsage.adapters``. ``Answerer`` is what ``answer/`` and ``agent/`` provide: one question,
one verified ``Answer``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from docsage.types import Answer

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


class Answerer(Protocol):
    """Answers one question from a collection. ``on_token`` receives the answer text as it
    becomes final (verified), for streaming front ends."""

    def ask(
        self,
        question: str,
        collection: str,
        *,
        path_prefix: str = "",
        on_token: OnToken | None = None,
    ) -> Answer: ...
