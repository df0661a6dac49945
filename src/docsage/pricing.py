"""Model prices (USD per million input and output tokens) and the cost of one model call.

Local models cost 0. The extractive answerer makes no model call at all: its usage is 0 tokens
and its cost 0, so only request budgets can trip while it answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from docsage.errors import ConfigError

LOCAL_PREFIXES = ("extractive", "onnx:", "fake:", "llamacpp:")


@dataclass(frozen=True, kw_only=True, slots=True)
class Price:
    input_per_m: float = 0.0
    output_per_m: float = 0.0


@dataclass(frozen=True, kw_only=True, slots=True)
class PriceTable:
    prices: dict[str, Price] = field(default_factory=dict)

    def price(self, model: str) -> Price:
        """The listed price; local models not listed cost 0; an unknown remote model is an
        error, so a cost is never silently 0."""
        if model in self.prices:
            return self.prices[model]
        if model.startswith(LOCAL_PREFIXES):
            return Price()
        raise ConfigError(
            f"no price for model {model!r}; add it to the price table (DOCSAGE_PRICE_TABLE)"
        )

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float:
        """USD = (input_tokens * input_per_m + output_tokens * output_per_m) / 1e6."""
        p = self.price(model)
        return (input_tokens * p.input_per_m + output_tokens * p.output_per_m) / 1e6


def load_prices(path: str | Path | None) -> PriceTable:
    """``{"model": {"input": 0.15, "output": 0.6}, ...}`` from a JSON file; none -> empty."""
    if not path:
        return PriceTable()
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        prices = {
            str(m): Price(input_per_m=float(v["input"]), output_per_m=float(v["output"]))
            for m, v in raw.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"cannot read the price table {path}: {exc}; expected "
            '{"model": {"input": USD per 1M tokens, "output": USD per 1M tokens}}'
        ) from exc
    return PriceTable(prices=prices)
