"""``docsage tune``: fine-tune the embedder on a collection's own titles and headings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docsage.app import Docsage
from docsage.cli import render
from docsage.settings import Settings
from docsage.tune import TrainConfig


def echo(line: str) -> None:
    render.console.print(line, highlight=False)


def tune(
    collection: Annotated[str, typer.Option("--collection", "-c", help="Collection to tune on.")],
    pairs: Annotated[
        int | None,
        typer.Option(
            "--pairs", min=2, help="At most this many pairs (default: DOCSAGE_TUNE_PAIRS)."
        ),
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Passes over the pairs.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model folder (default: HOME/models/<collection>-tuned)."),
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="Index folder (default: $DOCSAGE_HOME).")
    ] = None,
) -> None:
    """Fine-tune the embedder on (title or heading -> text) pairs mined from a collection,
    export it to ONNX and print the setting that uses it. Needs the optional tune extra
    (torch).

    Then re-embed with that setting: docsage embed -c NAME."""
    with Docsage(Settings.from_env(home=home)) as ds:
        config = TrainConfig(epochs=epochs, threads=ds.settings.embed_threads)
        report = ds.tune(collection=collection, out=out, pairs=pairs, config=config, progress=echo)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(report.mined.skipped.items()))
    render.console.print(f"chunks read: {report.mined.chunks}; skipped: {skipped or 'none'}")
    render.console.print(
        f"steps: {report.steps}; loss {report.first_loss:.4f} -> "
        f"{report.last_loss:.4f} (mean of the first and of the last 10 batches)"
    )
    for stage, seconds in report.seconds.items():
        render.console.print(f"{stage}: {seconds:.1f} s")
    render.console.print(f"model: {report.model} (fp32: {report.fp32})")
    render.console.print(f"use it with: {report.setting}")
