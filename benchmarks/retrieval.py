"""Retrieval benchmark: quality, speed and memory of docsage on real data, with baselines
run in the same process. Prints tables and rewrites the retrieval part of BENCHMARKS.md.

    python benchmarks/retrieval.py            # full run (first run embeds ~20k chunks)
    python benchmarks/retrieval.py --quick    # conala only, no SciFact

Data: the Python 3.11 docs (../shared/bench/get-python-docs) with conala-dev.jsonl, and
BEIR SciFact (../shared/bench/scifact.zip). Vectors are cached in .bench/home by text hash,
so later runs skip the embedding.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import bm25s
import numpy as np
import onnxruntime
from selectolax.lexbor import LexborHTMLParser

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import WORK, Case, conala, python_docs, scifact
from report import Table, fmt, write_section

from docsage.app import Docsage
from docsage.evals import metrics as m
from docsage.evals.stats import bootstrap_ci, percentile
from docsage.ingest.chunking import embed_text
from docsage.ingest.sources import walk
from docsage.models.onnx import OnnxMiniLM
from docsage.retrieve import MODES
from docsage.settings import Settings

METRICS = ("recall@10", "mrr@10", "ndcg@10")
# The fusion docsage used before z-score fusion, kept as a row of every quality table.
RRF_PREVIOUS = {"DOCSAGE_FUSION": "rrf", "DOCSAGE_LEXICAL_WEIGHT": "1", "DOCSAGE_DENSE_WEIGHT": "2"}
PREVIOUS = "docsage hybrid, RRF 1:2 (previous default)"
FUNCS: dict[str, Callable[[Sequence[str], set[str], int], float]] = {
    "recall@10": m.recall_at_k,
    "mrr@10": m.mrr_at_k,
    "ndcg@10": m.ndcg_at_k,
}


def score_run(runs: dict[str, list[str]], cases: Sequence[Case]) -> dict[str, list[float]]:
    """Per-case values of every metric at page and anchor level."""
    out: dict[str, list[float]] = {}
    for case in cases:
        ranked = runs[case.id]
        for level, transform in (("page", m.page_level), ("anchor", m.anchor_level)):
            retrieved, relevant = transform(ranked, case.gold)
            for name in METRICS:
                out.setdefault(f"{level}.{name}", []).append(FUNCS[name](retrieved, relevant, 10))
    return out


def docsage_runs(
    ds: Docsage, cases: Sequence[Case], collection: str, mode: str
) -> tuple[dict[str, list[str]], list[float]]:
    runs, latencies = {}, []
    for case in cases:
        started = time.perf_counter()
        result = ds.search(case.question, collection=collection, k=100, mode=mode)  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - started) * 1000)
        runs[case.id] = [h.chunk.ref for h in result.hits]
    return runs, latencies


def previous_runs(
    cases: Sequence[Case], collection: str
) -> tuple[dict[str, list[str]], list[float]]:
    previous = Docsage(Settings.from_env(environ=RRF_PREVIOUS, home=WORK / "home"))
    try:
        return docsage_runs(previous, cases, collection, "hybrid")
    finally:
        previous.close()


def bm25_pages(root: Path, cases: Sequence[Case], suffix: str) -> dict[str, list[str]]:
    """Plain page-level BM25 (bm25s, English stopwords) over each page's visible text."""
    files, _ = walk(root)
    pages = [f for f in files if f.source.endswith(suffix)]
    texts = []
    for f in pages:
        tree = LexborHTMLParser(f.path.read_text(encoding="utf-8", errors="replace"))
        texts.append(tree.body.text(separator=" ") if tree.body else "")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([c.question for c in cases], stopwords="en", show_progress=False)
    ids, _ = retriever.retrieve(tokens, k=100, show_progress=False)
    return {c.id: [pages[i].source for i in row] for c, row in zip(cases, ids, strict=True)}


def bm25_records(corpus: Path, cases: Sequence[Case]) -> dict[str, list[str]]:
    """BM25 over SciFact abstracts (title + text), the BEIR baseline's setting."""
    import json

    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    texts = [f"{r['title']} {r['text']}" for r in rows]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([c.question for c in cases], stopwords="en", show_progress=False)
    ids, _ = retriever.retrieve(tokens, k=10, show_progress=False)
    return {
        c.id: [f"corpus.jsonl#{rows[i]['id']}" for i in row]
        for c, row in zip(cases, ids, strict=True)
    }


def quality_table(
    title: str, runs: dict[str, dict[str, list[str]]], cases: Sequence[Case], ci_for: str
) -> tuple[Table, dict[str, dict[str, list[float]]]]:
    scored = {name: score_run(run, cases) for name, run in runs.items()}
    columns = [f"{lvl}.{met}" for lvl in ("page", "anchor") for met in METRICS]
    table = Table(title, ["system", *columns])
    for name, values in scored.items():
        cells = []
        for col in columns:
            mean, low, high = bootstrap_ci(values[col])
            cells.append(f"{mean:.3f}" + (f" [{low:.2f}, {high:.2f}]" if name == ci_for else ""))
        table.add(name, *cells)
    return table, scored


def speed_ingest(root: Path) -> tuple[Table, int]:
    with tempfile.TemporaryDirectory() as tmp:
        ds = Docsage(Settings.from_env(environ={}, home=Path(tmp)))
        started = time.perf_counter()
        report = ds.ingest(root, collection="speed", embed=False)
        seconds = time.perf_counter() - started
        ds.close()
    table = Table("Ingest without embedding (parse + chunk + lexical index)", ["metric", "value"])
    pages = sum(1 for p in root.rglob("*.html") if "_sources" not in p.parts)
    table.add("HTML pages in the folder", str(pages))
    table.add(
        "files ingested (default ignores skip genindex-*, py-modindex, search)",
        str(report.files_ingested),
    )
    table.add("chunks", str(report.chunks_written))
    table.add("seconds", f"{seconds:.1f}")
    table.add("files/s", f"{report.files_ingested / seconds:.0f}")
    return table, report.chunks_written


def speed_embedding(ds: Docsage, collection: str, sample: int = 768) -> Table:
    """Pipeline throughput (tokenize, sort by length, batch, run, pool) against the raw
    model (only ONNX Runtime calls on pre-tokenized, length-sorted batches), same texts."""
    chunks = ds.store.chunks_missing_vectors(collection, "no-such-model")
    rng = np.random.default_rng(0)
    picked = [
        chunks[i] for i in rng.choice(len(chunks), size=min(sample, len(chunks)), replace=False)
    ]
    texts = [embed_text(c.heading_path, c.text) for c in picked]
    model = OnnxMiniLM()
    model.embed(texts[:32])  # warm-up
    encodings = sorted(model.encode(texts), key=lambda e: len(e.ids))

    batches = model.batches([len(e.ids) for e in encodings])

    def raw_rate() -> float:
        started = time.perf_counter()
        for rows in batches:
            model.run_model([encodings[i] for i in rows])
        return len(texts) / (time.perf_counter() - started)

    def pipeline_rate() -> float:
        started = time.perf_counter()
        model.embed(texts)
        return len(texts) / (time.perf_counter() - started)

    # Interleaved and best-of-two, so a burst of load on the machine hits both sides alike.
    raw = max(raw_rate(), 0.0)
    pipeline = pipeline_rate()
    raw = max(raw, raw_rate())
    pipeline = max(pipeline, pipeline_rate())
    naive_enc = model.encode(texts)
    started = time.perf_counter()
    for i in range(0, len(naive_enc), 32):
        model.run_model(naive_enc[i : i + 32])
    naive = len(texts) / (time.perf_counter() - started)
    tokens = sum(len(e.ids) for e in encodings)
    table = Table(
        f"Embedding throughput ({len(texts)} corpus chunks, {tokens} tokens)",
        ["path", "chunks/s", "ratio to raw model"],
    )
    table.add("raw model (ONNX Runtime only, same sorted batches)", f"{raw:.1f}", "1.00")
    table.add(
        "docsage pipeline (tokenize + sort + token-budget batches + pool)",
        f"{pipeline:.1f}",
        f"{pipeline / raw:.2f}",
    )
    table.add(
        "unsorted batches of 32 (common practice, model only)", f"{naive:.1f}", f"{naive / raw:.2f}"
    )
    return table


def latency_table(latencies: dict[str, list[float]]) -> Table:
    table = Table("Latency per question (warm, ms)", ["operation", "p50", "p95", "n"])
    for name, values in latencies.items():
        table.add(
            name, f"{percentile(values, 50):.1f}", f"{percentile(values, 95):.1f}", str(len(values))
        )
    return table


def run_conala(ds: Docsage) -> list[Table]:
    root = python_docs()
    cases = conala()
    tables = []
    ingest_table, _ = speed_ingest(root)
    tables.append(ingest_table)
    started = time.perf_counter()
    report = ds.ingest(root, collection="pydocs")
    tables.append(
        Table("Index build in the benchmark home", ["metric", "value"])
        .add("seconds (incl. embedding of new text)", f"{time.perf_counter() - started:.1f}")
        .add("chunks embedded this run", str(report.chunks_embedded))
    )
    tables.append(speed_embedding(ds, "pydocs"))
    runs: dict[str, dict[str, list[str]]] = {
        "BM25 pages (bm25s baseline)": bm25_pages(root, cases, ".html")
    }
    latencies: dict[str, list[float]] = {}
    for mode in MODES[::-1]:
        runs[f"docsage {mode}"], latencies[f"search {mode}"] = docsage_runs(
            ds, cases, "pydocs", mode
        )
    runs[PREVIOUS], latencies[PREVIOUS.replace("docsage", "search")] = previous_runs(
        cases, "pydocs"
    )
    ask_ms = []
    for case in cases:
        started = time.perf_counter()
        ds.ask(case.question, collection="pydocs")
        ask_ms.append((time.perf_counter() - started) * 1000)
    latencies["ask (extractive)"] = ask_ms
    table, _ = quality_table(
        "conala-dev (149 questions) on the Python 3.11 docs, k=10; 95% bootstrap CI for hybrid",
        runs,
        cases,
        "docsage hybrid",
    )
    tables.append(table)
    tables.append(latency_table(latencies))
    return tables


def run_scifact(ds: Docsage) -> list[Table]:
    folder, cases = scifact()
    ds.ingest(folder, collection="scifact")
    runs = {"BM25 (bm25s, same process)": bm25_records(folder / "corpus.jsonl", cases)}
    for mode in MODES[::-1]:
        runs[f"docsage {mode}"], _ = docsage_runs(ds, cases, "scifact", mode)
    runs[PREVIOUS], _ = previous_runs(cases, "scifact")
    table = Table(
        "BEIR SciFact test (300 claims), nDCG@10; published: BM25 0.665, all-MiniLM-L6-v2 0.645",
        ["system", "nDCG@10", "95% CI", "Recall@10"],
    )
    for name, run in runs.items():
        values = score_run(run, cases)
        mean, low, high = bootstrap_ci(values["anchor.ndcg@10"])
        table.add(
            name,
            f"{mean:.3f}",
            f"[{low:.3f}, {high:.3f}]",
            fmt(statistics.fmean(values["anchor.recall@10"])),
        )
    return [table]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"ONNX Runtime {onnxruntime.__version__}, SQLite {__import__('sqlite3').sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="skip SciFact")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    ds = Docsage(Settings.from_env(environ={}, home=WORK / "home"))
    tables = run_conala(ds)
    if not args.quick:
        tables += run_scifact(ds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tables.append(
        Table("Memory", ["metric", "value"]).add(
            "peak RSS of this benchmark process", f"{peak:.0f} MiB"
        )
    )
    text = "\n\n".join(t.markdown() for t in tables)
    print(text)
    if not args.no_write:
        header = (
            f"Machine: {machine()}. Command: `python benchmarks/retrieval.py`. "
            f"Date: {time.strftime('%Y-%m-%d')}."
        )
        write_section(REPO_BENCH, "retrieval", header + "\n\n" + text)


REPO_BENCH = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

if __name__ == "__main__":
    main()
