"""What `docsage tune` buys: retrieval with the shipped embedder against the same embedder
fine-tuned on pairs mined from the corpus itself (titles -> abstracts for SciFact, headings ->
sections for the SQLAlchemy docs), in one run, with a paired bootstrap CI. Tuning reads only
the corpus, never the questions. Rewrites the "tune" section of BENCHMARKS.md.

    python benchmarks/tune.py                          # SciFact, home /tmp/tune-home
    python benchmarks/tune.py --corpus sqlalchemy-faq --no-write
    python benchmarks/tune.py --model HOME/models/scifact-tuned/model.int8.onnx  # no training

Vectors are stored per model name, so both embedders' vectors live in one home and one
collection: the corpus is parsed once, and each system searches with its own vectors.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import Case
from corpora import CORPORA, Corpus, scores
from report import Table, means_table, paired_cells, write_section

from docsage.app import Docsage
from docsage.ingest.chunking import embed_text
from docsage.settings import Settings

SPEED_SAMPLE = 256
SPEED_ROUNDS = 2
MODES = ("hybrid", "dense")


def _runs(ds: Docsage, corpus: Corpus, cases: list[Case]) -> dict[str, dict[str, list[float]]]:
    """mode -> metric -> per-case scores; hybrid is what docsage serves, dense isolates the
    embedder."""
    out = {}
    for mode in MODES:
        run = {
            c.id: [
                h.chunk.ref
                for h in ds.search(c.question, collection=corpus.collection, k=100, mode=mode).hits
            ]
            for c in cases
        }
        out[mode] = scores(corpus, run, cases)
    return out


def _open(home: Path, embedder: str = "") -> Docsage:
    return Docsage(
        Settings.from_env(environ={"DOCSAGE_EMBEDDER": embedder} if embedder else {}, home=home)
    )


def _speeds(home: Path, embedders: dict[str, str], texts: list[str]) -> dict[str, float]:
    """Chunks per second embedding the same ``texts``, every model loaded at once and timed
    in turn, ``SPEED_ROUNDS`` times (so a change in the machine's load hits them alike);
    the best round counts."""
    models = {name: _open(home, spec) for name, spec in embedders.items()}
    best = dict.fromkeys(models, 0.0)
    try:
        for model in models.values():
            assert model.embedder is not None
            model.embedder.embed(texts[:16])  # warm-up: session start, first allocation
        for _ in range(SPEED_ROUNDS):
            for name, model in models.items():
                assert model.embedder is not None
                started = time.perf_counter()
                model.embedder.embed(texts)
                best[name] = max(best[name], len(texts) / (time.perf_counter() - started))
    finally:
        for model in models.values():
            model.close()
    return best


def _sample(ds: Docsage, collection: str) -> list[str]:
    chunks = [
        c for s in sorted(ds.store.documents(collection)) for c in ds.store.chunks(collection, s)
    ]
    step = max(1, len(chunks) // SPEED_SAMPLE)
    return [embed_text(c.heading_path, c.text) for c in chunks[::step][:SPEED_SAMPLE]]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", choices=["scifact", "sqlalchemy-faq"], default="scifact")
    parser.add_argument("--home", type=Path, default=Path("/tmp/tune-home"))
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--model", type=Path, help="an already tuned model: skip training")
    parser.add_argument("--fp32", action="store_true", help="also measure the fp32 export")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    corpus: Corpus = CORPORA[args.corpus]
    cases = [c for c in corpus.cases() if c.answerable and c.gold]
    times: dict[str, float] = {}
    runs: dict[str, dict[str, list[float]]] = {}  # "embedder, mode" -> metric -> per case

    with _open(args.home) as base:
        started = time.perf_counter()
        base.ingest(corpus.root(), collection=corpus.collection)
        times["ingest + embed, shipped model (0 if already in the home)"] = (
            time.perf_counter() - started
        )
        for mode, scored in _runs(base, corpus, cases).items():
            runs[f"shipped all-MiniLM-L6-v2 int8, {mode}"] = scored
        sample = _sample(base, corpus.collection)
        model = args.model
        if model is None:
            report = base.tune(collection=corpus.collection, pairs=args.pairs)
            mined = report.mined
            print(f"mined {len(mined.pairs)} pairs {dict(mined.by_kind())}")
            print(f"skipped {dict(mined.skipped)}")
            print(
                f"loss {report.first_loss:.4f} -> {report.last_loss:.4f} over {report.steps} steps"
            )
            times |= {f"tune: {stage}": s for stage, s in report.seconds.items()}
            model = report.model
        assert model is not None

    variants = {f"tuned int8 ({model.name})": model}
    if args.fp32:
        variants[f"tuned fp32 ({model.with_name('model.onnx').name})"] = model.with_name(
            "model.onnx"
        )
    for name, path in variants.items():
        with _open(args.home, f"onnx:{path}") as tuned:
            started = time.perf_counter()
            done, missing = tuned.embed_pending(collection=corpus.collection)
            times[f"re-embed {done} chunks, {name}"] = time.perf_counter() - started
            assert missing == 0
            for mode, scored in _runs(tuned, corpus, cases).items():
                runs[f"{name}, {mode}"] = scored

    specs = {"shipped all-MiniLM-L6-v2 int8": ""} | {n: f"onnx:{p}" for n, p in variants.items()}
    speeds = _speeds(args.home, specs, sample)
    columns = list(next(iter(runs.values())))
    quality = means_table(
        f"{corpus.name}: {len(cases)} questions, docsage search (hybrid, and dense alone), k=10",
        "embedder, mode",
        runs,
    )
    diffs = Table(
        f"{corpus.name}: tuned minus shipped in the same mode, paired bootstrap 95% CI",
        ["embedder, mode", *columns],
    )
    shipped = "shipped all-MiniLM-L6-v2 int8"
    for name, values in runs.items():
        embedder, _, mode = name.rpartition(", ")
        if embedder != shipped:
            diffs.add(name, *paired_cells(runs[f"{shipped}, {mode}"], values, digits=3))
    speed = Table(
        f"{corpus.name}: embedding speed, the same {len(sample)} chunks, models timed in turn, "
        f"best of {SPEED_ROUNDS}",
        ["embedder", "chunks/s"],
    )
    for name, value in speeds.items():
        speed.add(name, f"{value:.1f}")
    timing = Table(f"{corpus.name}: wall time on this machine", ["stage", "seconds"])
    for stage, seconds in times.items():
        timing.add(stage, f"{seconds:.0f}")
    text = "\n\n".join(t.markdown() for t in (quality, diffs, speed, timing))
    print(text)
    if not args.no_write:
        header = (
            f"Command: `python benchmarks/tune.py {' '.join(sys.argv[1:])}`. "
            f"Date: {time.strftime('%Y-%m-%d')}. Tuned on pairs mined from the corpus only."
        )
        if args.model:
            header += f" Model from an earlier run of this script (`--model {args.model}`)."
        write_section(
            Path(__file__).resolve().parent.parent / "BENCHMARKS.md",
            f"tune-{args.corpus}" + ("-model" if args.model else ""),
            header + "\n\n" + text,
        )


if __name__ == "__main__":
    main()
