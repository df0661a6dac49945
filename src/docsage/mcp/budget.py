"""Token budgets on MCP results: clamp what the caller asks for, keep whole sections while
they fit, and say what was left out. Sizes use the project's estimate
(``docsage.models.chat.estimate_tokens``) of the JSON the client receives."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel

from docsage.models.chat import CHARS_PER_TOKEN, estimate_tokens

DEFAULT_TOKENS = 3000
MAX_TOKENS = 25000
MIN_TOKENS = 200
T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True, kw_only=True, slots=True)
class Budget:
    tokens: int
    note: str = ""
    """Set when the asked budget was clamped: what was asked and what applies."""


def clamp(asked: int | None) -> Budget:
    """``asked`` bounded to [MIN_TOKENS, MAX_TOKENS]; None is DEFAULT_TOKENS."""
    if asked is None:
        return Budget(tokens=DEFAULT_TOKENS)
    tokens = min(max(asked, MIN_TOKENS), MAX_TOKENS)
    if tokens == asked:
        return Budget(tokens=tokens)
    return Budget(tokens=tokens, note=f"max_tokens={asked} was clamped to {tokens}")


def tokens_of(item: BaseModel) -> int:
    return estimate_tokens(json.dumps(item.model_dump(mode="json")))


def pack(items: Sequence[T], tokens: int) -> tuple[list[T], int]:
    """The longest prefix of ``items`` whose estimated size fits ``tokens``, and how many
    items were left out."""
    kept: list[T] = []
    used = 0
    for item in items:
        size = tokens_of(item)
        if used + size > tokens:
            break
        kept.append(item)
        used += size
    return kept, len(items) - len(kept)


def cut_text(text: str, tokens: int) -> str:
    """``text`` cut to about ``tokens`` tokens, at the last paragraph (or line) break that
    fits; the whole text if it fits."""
    limit = max(int(tokens * CHARS_PER_TOKEN), 0)
    if len(text) <= limit:
        return text
    head = text[:limit]
    for sep in ("\n\n", "\n", " "):
        at = head.rfind(sep)
        if at > limit // 2:
            return head[:at]
    return head


def joined(notes: Sequence[str]) -> str:
    return "; ".join(n for n in notes if n)
