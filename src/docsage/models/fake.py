"""Deterministic fakes, shipped for tests and plugin authors. Not for real use.

``HashEmbedder`` hashes tokens into a fixed-size vector: texts that share words get similar
vectors, with no model and no randomness, so store and retrieval tests run in milliseconds.
``ScriptedChatModel`` plays a list of replies and tool calls (agent-loop and verification
tests); ``EchoChatModel`` (``fake:echo``) quotes its first source, for trying the generative
path offline.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Sequence

import numpy as np

from docsage.errors import ModelError
from docsage.models.chat import ChatModelConfig, estimate_messages, estimate_tokens
from docsage.ports import EmbedderConfig, Vector
from docsage.ports.chat import ChatRequest, ChatResponse, OnToken, ToolCall
from docsage.text import index_tokens


class HashEmbedder:
    """A fake embedder: feature hashing of lexical tokens, L2-normalised."""

    def __init__(self, dim: int = 64, name: str = "fake-hash") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> Vector:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in index_tokens(text):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: Vector = out / np.maximum(norms, 1e-12)
        return normalised


# -- chat models -------------------------------------------------------------------------------

ScriptItem = (
    str | ToolCall | list[ToolCall] | ChatResponse | BaseException | Callable[[ChatRequest], str]
)


def tool_call(name: str, call_id: str = "", **arguments: object) -> ToolCall:
    """A tool call for a script: ``tool_call("search_docs", query="retries")``."""
    return ToolCall(id=call_id or f"call_{name}", name=name, arguments=json.dumps(arguments))


class ScriptedChatModel:
    """A chat model that plays a script, one item per ``complete`` call: a text reply, a
    tool call (or a list of them), a full ``ChatResponse``, an exception to raise, or a
    function of the request that returns the reply text. Token counts are the shared
    estimate, so budgets behave as with a real model. ``requests`` records every call.

    >>> from docsage.ports.chat import Message
    >>> model = ScriptedChatModel(["Retries are on by default. [1]"])
    >>> model.complete(ChatRequest(messages=(Message(role="user", content="hi"),))).text
    'Retries are on by default. [1]'
    """

    def __init__(
        self,
        script: Sequence[ScriptItem],
        *,
        name: str = "fake:scripted",
        context_window: int = 4096,
        delay_s: float = 0.0,
    ) -> None:
        self.name = name
        self.context_window = context_window
        self.script = list(script)
        self.delay_s = delay_s
        self.requests: list[ChatRequest] = []

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        self.requests.append(request)
        if not self.script:
            raise ModelError(f"{self.name}: the script ran out after {len(self.requests)} calls")
        item = self.script.pop(0)
        if self.delay_s:
            time.sleep(self.delay_s)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, ChatResponse):
            return item
        if isinstance(item, ToolCall | list):
            calls = (item,) if isinstance(item, ToolCall) else tuple(item)
            return self._response(request, "", calls)
        text = item(request) if callable(item) else item
        for piece in _pieces(text) if on_token else ():
            on_token(piece)  # type: ignore[misc]
        return self._response(request, text, ())

    def _response(
        self, request: ChatRequest, text: str, calls: tuple[ToolCall, ...]
    ) -> ChatResponse:
        args = sum(estimate_tokens(c.name + c.arguments) for c in calls)
        return ChatResponse(
            text=text,
            model=self.name,
            input_tokens=estimate_messages(request.messages),
            output_tokens=estimate_tokens(text) + args,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else "stop",
        )


def _pieces(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


_SOURCE = re.compile(r"^\[(\d+)\][^\n]*\n(.+?)(?=\n\n\[\d+\]|\n<<<END DOCS |\Z)", re.M | re.S)


class EchoChatModel(ScriptedChatModel):
    """``fake:echo``: answers every prompt by quoting the first sentence of source [1] with
    its citation, or abstains when the prompt has no sources. Deterministic and offline,
    for trying the generative path (``docsage ask --model fake:echo``) without a server."""

    def __init__(self, name: str = "fake:echo", context_window: int = 4096) -> None:
        super().__init__([], name=name, context_window=context_window)

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        self.script = [_echo]
        return super().complete(request, on_token)


def _echo(request: ChatRequest) -> str:
    prompt = "\n".join(m.content for m in request.messages)
    match = _SOURCE.search(prompt)
    if match is None:
        return "The docs don't cover this."
    first = re.split(r"(?<=[.!?])\s", match.group(2).strip(), maxsplit=1)[0]
    return f"{' '.join(first.split())} [{match.group(1)}]"


def hash_embedder(model: str, config: EmbedderConfig) -> HashEmbedder:
    """``fake:<anything>``: a ``HashEmbedder``."""
    return HashEmbedder()


def echo_chat_model(model: str, config: ChatModelConfig) -> EchoChatModel:
    """``fake:<name>``: an ``EchoChatModel`` named ``fake:<name>`` (``fake:echo`` if no name)."""
    return EchoChatModel(name=f"fake:{model or 'echo'}")
