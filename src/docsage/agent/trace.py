"""Traces of an answer's steps (model calls, tool calls, routing decisions) as rows and
JSON, for the CLI's ``--trace`` and the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from docsage.types import TraceStep

COLUMNS = ("#", "kind", "name", "detail", "chars", "tokens in", "tokens out", "USD", "ms")


def trace_json(steps: Sequence[TraceStep]) -> list[dict[str, Any]]:
    return [{"step": i, **asdict(s)} for i, s in enumerate(steps, 1)]


def trace_rows(steps: Sequence[TraceStep]) -> list[tuple[str, ...]]:
    """One row per step, in ``COLUMNS`` order; an error replaces the detail."""
    return [_row(i, s) for i, s in enumerate(steps, 1)]


def _row(i: int, s: TraceStep) -> tuple[str, ...]:
    detail = (f"error: {s.error}" if s.error else s.detail)[:80]
    tokens = (str(s.result_chars), str(s.input_tokens), str(s.output_tokens))
    return (str(i), s.kind, s.name, detail, *tokens, f"{s.cost_usd:.6f}", f"{s.ms:.0f}")


def totals(steps: Sequence[TraceStep]) -> dict[str, float]:
    return {
        "model_calls": sum(1 for s in steps if s.kind == "model"),
        "tool_calls": sum(1 for s in steps if s.kind == "tool"),
        "input_tokens": sum(s.input_tokens for s in steps),
        "output_tokens": sum(s.output_tokens for s in steps),
        "cost_usd": sum(s.cost_usd for s in steps),
        "ms": sum(s.ms for s in steps),
    }
