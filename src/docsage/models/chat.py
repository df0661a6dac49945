"""What chat-model adapters share: token estimates, a free pricer, and the typed config
their factories get. The port itself (``ChatModel``, its request and response) is in
``docsage.ports.chat``.

Adapters are named ``"<provider>:<model>"``: ``openai:gpt-4o-mini`` (any OpenAI-compatible
server: OpenAI, vLLM, Ollama, the llama.cpp server), ``llamacpp:/path/model.gguf`` (in
process, the ``llamacpp`` extra) and ``fake:<name>`` (scripted, for tests). ``extractive``
names no chat model at all. ``docsage.adapters`` resolves the names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from docsage.ports.chat import JsonMode, Message


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
