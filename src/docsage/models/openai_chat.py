"""Chat completions from any OpenAI-compatible ``/v1/chat/completions`` endpoint (OpenAI,
vLLM, Ollama, the llama.cpp server).

Retries only named transient failures (timeouts, connection errors, 408/429/5xx), with
exponential backoff, and a streamed call only before its first token (a retry after that
would repeat text already shown). What stays transient after the retries raises
``TransientModelError`` so routing can fall back; anything else fails at once with the
server's reason.

Usage: the server's ``usage`` when it sends one (streams ask for it with
``stream_options.include_usage``; OpenAI and vLLM send it). The llama.cpp server sends none
in a stream. Then output tokens are the number of content deltas (it sends one token per
delta), and input tokens come from a probe: the same prompt again, unstreamed, with
``max_tokens=1`` (the server's prompt cache makes this cheap, and its count includes the
chat template, which a client-side count cannot see). If the probe fails, docsage's own
estimate is used. Either way the response says ``estimated``.

JSON output: ``json_mode="json_schema"`` sends OpenAI's ``{"type": "json_schema"}``;
``"json_object"`` sends ``{"type": "json_object", "schema": ...}``, the llama.cpp server's
grammar-constrained form (it rejects ``json_schema``); ``"prompt"`` sends nothing and relies
on the prompt and the repair retry in ``docsage.answer.structured``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from docsage import deadline
from docsage.errors import (
    ConfigError,
    ModelError,
    TransientModelError,
)
from docsage.models.chat import ChatModelConfig, estimate_messages, estimate_tokens
from docsage.models.openai import http_client, status_error, transport_error
from docsage.models.retry import call_with_retries
from docsage.ports.chat import ChatRequest, ChatResponse, JsonMode, Message, OnToken, ToolCall


def message_json(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        out["tool_call_id"] = message.tool_call_id
    return out


def response_format(schema: dict[str, Any], mode: JsonMode) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    if mode == "json_object":
        return {"type": "json_object", "schema": schema}
    return None


@dataclass
class _Accumulator:
    """Pieces of a streamed reply, put together."""

    text: list[str] = field(default_factory=list)
    deltas: int = 0
    calls: dict[int, dict[str, str]] = field(default_factory=dict)
    usage: dict[str, int] | None = None
    finish: str = "stop"
    first_token_ms: float = 0.0

    def add(self, event: dict[str, Any], started: float, on_token: OnToken) -> None:
        if event.get("usage"):
            self.usage = event["usage"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if not self.first_token_ms:
                    self.first_token_ms = (time.perf_counter() - started) * 1000
                self.text.append(delta["content"])
                self.deltas += 1
                on_token(delta["content"])
            for call in delta.get("tool_calls") or []:
                slot = self.calls.setdefault(call.get("index", 0), {"id": "", "name": "", "a": ""})
                fn = call.get("function") or {}
                slot["id"] = call.get("id") or slot["id"]
                slot["name"] += fn.get("name") or ""
                slot["a"] += fn.get("arguments") or ""
            self.finish = choice.get("finish_reason") or self.finish


def _tool_calls(raw: list[dict[str, Any]]) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(
            id=str(c.get("id") or f"call_{i}"),
            name=str(c["function"]["name"]),
            arguments=str(c["function"].get("arguments") or "{}"),
        )
        for i, c in enumerate(raw)
    )


_DEFAULTS = ChatModelConfig()
CONTEXT_WINDOW = 8192
"""Tokens assumed when the settings name none (DOCSAGE_MODEL_CONTEXT)."""


class OpenAIChatModel:
    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str = "",
        timeout_s: float = _DEFAULTS.timeout_s,
        retries: int = _DEFAULTS.retries,
        context_window: int = CONTEXT_WINDOW,
        json_mode: JsonMode = _DEFAULTS.json_mode,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.context_window = context_window
        self.retries = retries
        self.json_mode = json_mode
        self.timeout_s = timeout_s
        self._client = http_client(base_url, api_key, timeout_s, transport)

    def payload(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [message_json(m) for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": t.parameters,
                    },
                }
                for t in request.tools
            ]
        fmt = response_format(request.json_schema, self.json_mode) if request.json_schema else None
        if fmt is not None:
            body["response_format"] = fmt
        return body

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        started = time.perf_counter()

        def attempt() -> ChatResponse:
            deadline.check("waiting for the model")
            if on_token is None:
                return self._once(request, started)
            return self._stream(request, started, on_token)

        return call_with_retries(attempt, self.retries)

    def _once(self, request: ChatRequest, started: float) -> ChatResponse:
        timeout = deadline.clamp(self.timeout_s)
        try:
            response = self._client.post(
                "/chat/completions", json=self.payload(request, False), timeout=timeout
            )
        except httpx.TransportError as exc:
            raise transport_error(exc, self.name, timeout) from exc
        body = self._check(response)
        try:
            choice = body["choices"][0]
            message = choice["message"]
            usage = body.get("usage") or {}
        except (KeyError, IndexError, TypeError) as exc:
            raise ModelError(f"{self.name}: unexpected response body: {exc!r}") from exc
        text = message.get("content") or ""
        return ChatResponse(
            text=text,
            model=self.name,
            input_tokens=int(usage.get("prompt_tokens", 0)) or estimate_messages(request.messages),
            output_tokens=int(usage.get("completion_tokens", 0)) or estimate_tokens(text),
            tool_calls=_tool_calls(message.get("tool_calls") or []),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            estimated=not usage,
            ms=(time.perf_counter() - started) * 1000,
        )

    def _check(self, response: httpx.Response) -> dict[str, Any]:
        failed = status_error(response, self.name)
        if failed is not None:
            raise failed
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ModelError(f"{self.name}: response is not JSON: {response.text[:200]}") from exc
        return body

    def _stream(self, request: ChatRequest, started: float, on_token: OnToken) -> ChatResponse:
        acc = _Accumulator()
        payload = self.payload(request, True)
        timeout = deadline.clamp(self.timeout_s)
        try:
            with self._client.stream(
                "POST", "/chat/completions", json=payload, timeout=timeout
            ) as response:
                if response.status_code != 200:
                    response.read()
                    self._check(response)
                for event in _sse(response.iter_lines()):
                    # Leaving the block closes the connection: the server stops generating.
                    deadline.check(f"streaming from {self.name}")
                    acc.add(event, started, on_token)
        except httpx.TransportError as exc:
            failure = transport_error(exc, self.name, timeout)
            if acc.deltas and isinstance(failure, TransientModelError):
                raise ModelError(f"{self.name}: stream broke after it started: {exc!r}") from exc
            raise failure from exc
        return self._streamed(request, acc, started)

    def _probe_prompt_tokens(self, request: ChatRequest) -> int:
        """The server's prompt-token count for ``request`` (0 if it cannot say)."""
        body = self.payload(replace(request, max_tokens=1, tools=()), False)
        body.pop("response_format", None)
        try:
            response = self._client.post("/chat/completions", json=body)
            return int(response.json()["usage"]["prompt_tokens"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return 0

    def _streamed(self, request: ChatRequest, acc: _Accumulator, started: float) -> ChatResponse:
        text = "".join(acc.text)
        usage = acc.usage or {"prompt_tokens": self._probe_prompt_tokens(request)}
        calls = [
            {"id": c["id"], "function": {"name": c["name"], "arguments": c["a"]}}
            for _, c in sorted(acc.calls.items())
        ]
        return ChatResponse(
            text=text,
            model=self.name,
            input_tokens=int(usage.get("prompt_tokens", 0)) or estimate_messages(request.messages),
            output_tokens=int(usage.get("completion_tokens", 0)) or acc.deltas,
            tool_calls=_tool_calls(calls),
            finish_reason=acc.finish,
            estimated=acc.usage is None,
            first_token_ms=acc.first_token_ms,
            ms=(time.perf_counter() - started) * 1000,
        )

    def close(self) -> None:
        self._client.close()


def _sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON events of a server-sent-events body, up to ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError as exc:
            raise ModelError(f"malformed stream event: {data[:200]}") from exc


def chat_model(model: str, config: ChatModelConfig) -> OpenAIChatModel:
    """``openai:<model>``: any OpenAI-compatible ``/v1/chat/completions`` server."""
    if not model:
        raise ConfigError("name the model: openai:<model>, e.g. openai:gpt-4o-mini")
    return OpenAIChatModel(
        model,
        base_url=config.base_url or _DEFAULTS.base_url,
        api_key=config.api_key,
        timeout_s=config.timeout_s,
        retries=config.retries,
        context_window=config.context_window or CONTEXT_WINDOW,
        json_mode=config.json_mode,
    )
