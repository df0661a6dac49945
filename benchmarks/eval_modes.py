"""conala-dev and BEIR SciFact through the real `docsage eval` CLI, once per retrieval mode.

    python benchmarks/eval_modes.py     # after benchmarks/retrieval.py has built .bench/home

Each run is a subprocess of the installed `docsage` command, exactly what a docs team would
run; the numbers come from the summary.json it writes. Rewrites the `eval` section of
BENCHMARKS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import BENCH, WORK, scifact
from report import Table, write_section

REPO = Path(__file__).resolve().parent.parent
DOCSAGE = Path(sys.executable).parent / "docsage"
MODES = ("lexical", "dense", "hybrid")
COLUMNS = (
    "page.recall@10",
    "anchor.recall@10",
    "anchor.ndcg@10",
    "citation.precision",
    "citation.recall",
    "abstention.false_rate",
    "latency.p50_ms",
    "latency.p95_ms",
    "errors.rate",
)


def scifact_dataset() -> Path:
    _, cases = scifact()
    path = WORK / "scifact-eval.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for case in cases:
            row = {"id": case.id, "question": case.question, "gold_sources": list(case.gold)}
            out.write(json.dumps(row | {"answerable": True}) + "\n")
    return path


def run_eval(dataset: Path, collection: str, mode: str) -> dict[str, dict[str, float]]:
    out = WORK / "eval" / f"{collection}-{mode}"
    command = [
        str(DOCSAGE),
        "eval",
        "run",
        str(dataset),
        "--collection",
        collection,
        "--mode",
        mode,
        "--out",
        str(out),
        "--home",
        str(WORK / "home"),
    ]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    metrics: dict[str, dict[str, float]] = summary["metrics"]
    return metrics


def cell(metrics: dict[str, dict[str, float]], name: str) -> str:
    row = metrics.get(name)
    if row is None:
        return "-"
    digits = 1 if name.startswith("latency") else 3
    return f"{row['value']:.{digits}f}"


def main() -> None:
    datasets = (
        ("conala-dev on the Python 3.11 docs", BENCH / "conala-dev.jsonl", "pydocs"),
        ("BEIR SciFact test claims", scifact_dataset(), "scifact"),
    )
    tables = []
    for title, dataset, collection in datasets:
        table = Table(f"{title} (`docsage eval --mode M`)", ["mode", *COLUMNS])
        for mode in MODES:
            metrics = run_eval(dataset, collection, mode)
            table.add(mode, *(cell(metrics, c) for c in COLUMNS))
        tables.append(table)
    header = (
        f"Command: `python benchmarks/eval_modes.py` (runs `docsage eval` per mode). "
        f"Date: {time.strftime('%Y-%m-%d')}. Retrieval metrics equal those of "
        "`benchmarks/retrieval.py`. `--mode` sets the ranking that retrieval metrics score; "
        "answers (citation, abstention, latency columns) always come from the default "
        "extractive `ask` path, so they do not change with the mode."
    )
    text = header + "\n\n" + "\n\n".join(t.markdown() for t in tables)
    print(text)
    write_section(REPO / "BENCHMARKS.md", "eval", text)


if __name__ == "__main__":
    main()
