"""What one agent run may spend; the settings' defaults are these (``DOCSAGE_AGENT_MAX_*``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True, slots=True)
class Budget:
    max_steps: int = 8
    """Model calls."""
    max_tool_calls: int = 12
    max_tokens: int = 40_000
    """Model tokens, input and output together."""
    max_cost_usd: float | None = None
    """None: no cost limit."""
    max_seconds: float = 60.0
