"""A GGUF model run in process by llama.cpp (``pip install 'docsage[llamacpp]'``).

``llamacpp:/path/model.gguf``. The model loads on the first call. Token counts come from
llama.cpp itself (``usage`` of the completion; in a stream, the model's tokenizer), exact for
a plain call; a stream counts the message texts with the tokenizer, without the chat
template's tokens, and says ``estimated``. JSON output uses llama.cpp's grammar-constrained
``json_object`` with a schema.
Tool calls are not offered: use an OpenAI-compatible server for the agent mode.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from docsage.errors import ConfigError, ModelError, missing_extra
from docsage.models.chat import ChatModelConfig
from docsage.models.openai_chat import message_json, response_format
from docsage.ports.chat import ChatRequest, ChatResponse, OnToken

INSTALL = "pip install 'docsage[llamacpp]'  (or scripts/install-llamacpp.sh for a cached wheel)"


class LlamaCppChatModel:
    def __init__(self, path: str, *, context_window: int = 4096, threads: int | None = None):
        if not Path(path).expanduser().is_file():
            raise ConfigError(f"no GGUF model file at {path!r}; use llamacpp:/path/to/model.gguf")
        self.name = f"llamacpp:{path}"
        self.path = str(Path(path).expanduser())
        self.context_window = context_window
        self.threads = threads
        self._llama: Any = None
        self._lock = threading.Lock()  # a Llama object is not safe to share across threads

    def _load(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise missing_extra("llama-cpp-python", INSTALL) from exc
            self._llama = Llama(
                model_path=self.path,
                n_ctx=self.context_window,
                n_threads=self.threads,
                verbose=False,
            )
        return self._llama

    def _kwargs(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "messages": [message_json(m) for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if request.json_schema:
            kwargs["response_format"] = response_format(request.json_schema, "json_object")
        return kwargs

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        started = time.perf_counter()
        with self._lock:
            llama = self._load()
            try:
                if on_token is None:
                    return self._once(llama, request, started)
                return self._stream(llama, request, started, on_token)
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.name}: {exc}") from exc

    def _once(self, llama: Any, request: ChatRequest, started: float) -> ChatResponse:
        out = llama.create_chat_completion(**self._kwargs(request, False))
        usage = out.get("usage") or {}
        choice = out["choices"][0]
        return ChatResponse(
            text=choice["message"].get("content") or "",
            model=self.name,
            input_tokens=int(usage.get("prompt_tokens", 0)),
            output_tokens=int(usage.get("completion_tokens", 0)),
            finish_reason=str(choice.get("finish_reason") or "stop"),
            ms=(time.perf_counter() - started) * 1000,
        )

    def _stream(
        self, llama: Any, request: ChatRequest, started: float, on_token: OnToken
    ) -> ChatResponse:
        pieces: list[str] = []
        first = 0.0
        finish = "stop"
        for event in llama.create_chat_completion(**self._kwargs(request, True)):
            choice = event["choices"][0]
            text = (choice.get("delta") or {}).get("content") or ""
            if text:
                first = first or (time.perf_counter() - started) * 1000
                pieces.append(text)
                on_token(text)
            finish = choice.get("finish_reason") or finish
        text = "".join(pieces)
        prompt = "\n".join(m.content for m in request.messages)
        return ChatResponse(
            text=text,
            model=self.name,
            input_tokens=len(llama.tokenize(prompt.encode(), add_bos=True)),
            output_tokens=len(llama.tokenize(text.encode(), add_bos=False)) if text else 0,
            finish_reason=finish,
            estimated=True,  # message texts counted by the tokenizer, template tokens not
            first_token_ms=first,
            ms=(time.perf_counter() - started) * 1000,
        )


def chat_model(model: str, config: ChatModelConfig) -> LlamaCppChatModel:
    """``llamacpp:<path.gguf>``: the model file run in process (the ``llamacpp`` extra)."""
    return LlamaCppChatModel(model, context_window=config.context_window or 4096)
