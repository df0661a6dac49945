"""What one search or ask produced, as the service reports and records it."""

from __future__ import annotations

from dataclasses import dataclass

from docsage.retrieve import SearchResult
from docsage.types import Answer


@dataclass(frozen=True, kw_only=True, slots=True)
class Usage:
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class AskOutcome:
    id: str
    collection: str
    answer: Answer | None
    search: SearchResult | None
    usage: Usage
    cache_hit: bool
    degraded: str | None = None
    degraded_reason: str | None = None


def usage_of(answer: Answer) -> Usage:
    """One row for the request log: the answer's model, all routes' tokens and cost."""
    return Usage(
        model=answer.model,
        input_tokens=sum(u.input_tokens for u in answer.usage),
        output_tokens=sum(u.output_tokens for u in answer.usage),
        cost_usd=answer.cost_usd,
    )
