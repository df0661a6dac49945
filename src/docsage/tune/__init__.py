"""``docsage tune``: fine-tune the embedder on pairs mined from a collection, export it to
ONNX, and name the setting that uses it (the ``tune`` extra: torch and the fp32 weights).

Importing this package imports no torch; ``tune`` checks for it first and names the extra.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from docsage.errors import UsageError, missing_extra
from docsage.ports import IndexReader
from docsage.tune.pairs import Mined, mine_pairs

INSTALL = "pip install 'docsage[tune]'"


@dataclass(frozen=True, kw_only=True, slots=True)
class TrainConfig:
    epochs: int = 1
    batch_size: int = 32
    lr: float = 2e-5
    warmup: float = 0.1
    """Fraction of the steps over which the learning rate rises linearly from 0."""
    scale: float = 20.0
    query_tokens: int = 64
    passage_tokens: int = 256
    seed: int = 0
    max_steps: int | None = None
    """Stop after this many steps (tests); None = all epochs."""
    threads: int | None = None
    """torch threads; None = all cores."""


@dataclass(kw_only=True, slots=True)
class TuneReport:
    mined: Mined
    steps: int = 0
    first_loss: float = 0.0
    """Mean loss of the first 10 batches (``last_loss``: of the last 10)."""
    last_loss: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)
    """Stage -> wall seconds: ``mine``, ``train``, ``export``, ``quantize``."""
    model: Path | None = None
    fp32: Path | None = None

    @property
    def setting(self) -> str:
        return f"DOCSAGE_EMBEDDER=onnx:{self.model}"


def require_torch() -> None:
    if importlib.util.find_spec("torch") is None:
        raise missing_extra("torch", INSTALL)


def tune(
    reader: IndexReader,
    collection: str,
    out: Path,
    *,
    pairs: int,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] = print,
) -> TuneReport:
    """Mine, train, export ``out/model.onnx`` and its int8 twin ``out/model.int8.onnx``
    (the one the report's setting names: the shipped default is int8 too)."""
    require_torch()
    from docsage.tune.train import export_onnx, quantize_int8, train

    clock = time.perf_counter()
    mined = mine_pairs(reader, collection, limit=pairs)
    report = TuneReport(mined=mined, seconds={"mine": time.perf_counter() - clock})
    progress(f"mined {len(mined.pairs)} pairs from {mined.chunks} chunks: {dict(mined.by_kind())}")
    if len(mined.pairs) < 2:
        raise UsageError(
            f"only {len(mined.pairs)} training pairs in {collection!r}: tuning needs 2 or more "
            "chunks with a title or heading"
        )
    result = train(mined.pairs, config or TrainConfig(), progress)
    report.steps, report.seconds["train"] = result.steps, result.seconds
    head, tail = result.losses[:10], result.losses[-10:]
    report.first_loss, report.last_loss = sum(head) / len(head), sum(tail) / len(tail)
    clock = time.perf_counter()
    report.fp32 = export_onnx(result.model, out / "model.onnx")
    report.seconds["export"] = time.perf_counter() - clock
    clock = time.perf_counter()
    report.model = quantize_int8(report.fp32, out / "model.int8.onnx")
    report.seconds["quantize"] = time.perf_counter() - clock
    return report
