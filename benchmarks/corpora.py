"""Retrieval on every dev corpus side by side: docsage's default, its previous default, and
two naive baselines, in one run, with paired bootstrap CIs. Rewrites the "corpora" section
of BENCHMARKS.md.

    python benchmarks/corpora.py                    # all corpora
    python benchmarks/corpora.py --only git-faq     # one (names below), prints only with --no-write

Corpora (all in ../shared/bench, development splits): conala-dev (API lookups over the
Python 3.11 docs), sqlalchemy-faq (conceptual FAQ questions over the SQLAlchemy reST
sources), git-faq (gitfaq over git's asciidoc + HTML docs), SciFact (generic claims).

Baselines, both built here in a few lines, as a team would in an afternoon:
- BM25 pages: bm25s (English stopwords) over each page's visible text;
- naive RRF: bm25s over docsage's own chunks fused with cosine over the same stored MiniLM
  vectors, unweighted reciprocal rank fusion (k=60).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s
import numpy as np
from selectolax.lexbor import LexborHTMLParser

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import (
    BENCH,
    WORK,
    Case,
    conala,
    faq_cases,
    git_docs,
    python_docs,
    scifact,
    sqlalchemy_docs,
)
from report import Table, means_table, paired_cells, write_section

from docsage.app import Docsage
from docsage.evals import metrics as m
from docsage.evals.stats import bootstrap_ci
from docsage.fusion import rrf_fuse
from docsage.ingest.sources import walk
from docsage.settings import Settings

HOME = WORK / "home"
# The settings docsage shipped with before this benchmark existed: every
# table keeps them as a row, so a change of default is measured against what it replaced.
PREVIOUS_DEFAULT = {
    "DOCSAGE_LINK_PRIOR": "3.0",
    "DOCSAGE_API_PRIOR": "1.0",
    "DOCSAGE_TITLE_PRIOR": "0",
    "DOCSAGE_HISTORY_PRIOR": "1",
}
DEFAULT, PREVIOUS, BM25, NAIVE = (
    "docsage hybrid (default)",
    "docsage, previous default",
    "BM25 pages (bm25s)",
    "naive RRF (bm25s chunks + MiniLM)",
)
PAGE_SUFFIXES = (".html", ".rst", ".txt", ".md")


@dataclass(frozen=True)
class Corpus:
    name: str
    collection: str
    root: Callable[[], Path]
    cases: Callable[[], list[Case]]
    # Two files that render the same page (git's x.txt is the source of x.html): refs of
    # the first form are scored as the second, for every system alike.
    same_page: Callable[[str], str] = field(default=lambda ref: ref)
    records: bool = False  # one JSONL file of records: only anchor (record) level counts


def _txt_as_html(ref: str) -> str:
    page, _, anchor = ref.partition("#")
    if page.endswith(".txt"):
        page = page[: -len(".txt")] + ".html"
    return f"{page}#{anchor}" if anchor else page


CORPORA = {
    c.name: c
    for c in (
        Corpus("conala-dev", "pydocs", python_docs, conala),
        Corpus(
            "sqlalchemy-faq",
            "sqlalchemy",
            sqlalchemy_docs,
            lambda: faq_cases(BENCH / "sqlalchemy-faq.jsonl"),
        ),
        Corpus(
            "git-faq",
            "gitdocs",
            git_docs,
            lambda: faq_cases(BENCH / "git-faq.jsonl"),
            same_page=_txt_as_html,
        ),
        Corpus("scifact", "scifact", lambda: scifact()[0], lambda: scifact()[1], records=True),
    )
}

Runs = dict[str, list[str]]


def docsage_runs(ds: Docsage, cases: Sequence[Case], collection: str) -> Runs:
    return {
        c.id: [h.chunk.ref for h in ds.search(c.question, collection=collection, k=100).hits]
        for c in cases
    }


def _bm25(texts: list[str], queries: list[str], k: int) -> np.ndarray:
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    tokens = bm25s.tokenize(queries, stopwords="en", show_progress=False)
    ids, _ = retriever.retrieve(tokens, k=min(k, len(texts)), show_progress=False)
    return ids


def _page_text(path: Path) -> str:
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".html":
        return raw
    tree = LexborHTMLParser(raw)
    return tree.body.text(separator=" ") if tree.body else ""


def bm25_pages(corpus: Corpus, root: Path, cases: Sequence[Case]) -> Runs:
    """Whole pages (files docsage would ingest); for SciFact each record is a page."""
    if corpus.records:
        rows = [json.loads(x) for x in (root / "corpus.jsonl").read_text().splitlines()]
        texts = [f"{r['title']} {r['text']}" for r in rows]
        names = [f"corpus.jsonl#{r['id']}" for r in rows]
    else:
        files, _ = walk(root)
        pages = [f for f in files if f.source.endswith(PAGE_SUFFIXES)]
        texts = [_page_text(f.path) for f in pages]
        names = [f.source for f in pages]
    ids = _bm25(texts, [c.question for c in cases], 100)
    return {c.id: [names[i] for i in row] for c, row in zip(cases, ids, strict=True)}


def searchable_text(heading_path: str, text: str) -> str:
    """A stored chunk as the baselines index it: its headings (a JSON list), then its text."""
    return " ".join(json.loads(heading_path)) + "\n" + text


def naive_rrf(ds: Docsage, collection: str, cases: Sequence[Case]) -> Runs:
    """bm25s over chunks + exact cosine over the stored vectors, RRF(k=60), weights 1:1."""
    assert ds.embedder is not None
    with sqlite3.connect(HOME / "index.sqlite") as conn:
        rows = conn.execute(
            "SELECT c.source, c.anchor, c.heading_path, c.text, v.vector FROM chunks c"
            " JOIN vectors v ON v.model = ? AND v.text_hash = c.text_hash"
            " WHERE c.collection = ? ORDER BY c.rowid",
            (ds.embedder.name, collection),
        ).fetchall()
    refs = [f"{r[0]}#{r[1]}" if r[1] else r[0] for r in rows]
    texts = [searchable_text(r[2], r[3]) for r in rows]
    matrix = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    questions = [c.question for c in cases]
    lexical = _bm25(texts, questions, 100)
    queries = np.asarray(ds.embedder.embed(questions), dtype=np.float32)
    dense = np.argsort(-(queries @ matrix.T), axis=1)[:, :100]
    runs: Runs = {}
    for case, lex, den in zip(cases, lexical, dense, strict=True):
        fused = rrf_fuse([[str(i) for i in lex], [str(i) for i in den]], [1.0, 1.0], 60.0)
        order = sorted(fused, key=lambda i: -fused[i])
        runs[case.id] = [refs[int(i)] for i in order]
    return runs


def scores(corpus: Corpus, run: Runs, cases: Sequence[Case]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    levels = [("anchor", m.anchor_level)] if corpus.records else []
    levels = levels or [("page", m.page_level), ("anchor", m.anchor_level)]
    for case in cases:
        ranked = [corpus.same_page(r) for r in run[case.id]]
        for level, transform in levels:
            retrieved, relevant = transform(ranked, case.gold)
            out.setdefault(f"{level} R@10", []).append(m.recall_at_k(retrieved, relevant, 10))
            out.setdefault(f"{level} MRR@10", []).append(m.mrr_at_k(retrieved, relevant, 10))
            if corpus.records:
                out.setdefault("nDCG@10", []).append(m.ndcg_at_k(retrieved, relevant, 10))
    return out


def run_corpus(corpus: Corpus, default: Docsage, previous: Docsage) -> list[Table]:
    root = corpus.root()
    cases = [c for c in corpus.cases() if c.answerable and c.gold]
    started = time.perf_counter()
    default.ingest(root, collection=corpus.collection)
    ingest_s = time.perf_counter() - started
    runs = {
        DEFAULT: docsage_runs(default, cases, corpus.collection),
        PREVIOUS: docsage_runs(previous, cases, corpus.collection),
        BM25: bm25_pages(corpus, root, cases),
        NAIVE: naive_rrf(default, corpus.collection, cases),
    }
    scored = {name: scores(corpus, run, cases) for name, run in runs.items()}
    columns = list(scored[DEFAULT])
    quality = means_table(
        f"{corpus.name}: {len(cases)} answerable questions, k=10 (index ready in {ingest_s:.0f} s)",
        "system",
        scored,
    )
    diffs = Table(
        f"{corpus.name}: docsage default minus each other system, paired bootstrap 95% CI",
        ["against", *columns],
    )
    for name, values in scored.items():
        if name != DEFAULT:
            diffs.add(name, *paired_cells(values, scored[DEFAULT]))
    _, low, high = bootstrap_ci(scored[DEFAULT][columns[1]])
    quality.title += f"; default {columns[1]} 95% CI [{low:.2f}, {high:.2f}]"
    return [quality, diffs]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(CORPORA), action="append")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    default = Docsage(Settings.from_env(environ={}, home=HOME))
    previous = Docsage(Settings.from_env(environ=PREVIOUS_DEFAULT, home=HOME))
    tables: list[Table] = []
    try:
        for name in args.only or CORPORA:
            tables += run_corpus(CORPORA[name], default, previous)
            print("\n\n".join(t.markdown() for t in tables[-2:]), flush=True)
    finally:
        default.close()
        previous.close()
    if not args.no_write and not args.only:
        header = (
            "Command: `python benchmarks/corpora.py`. "
            f"Date: {time.strftime('%Y-%m-%d')}. Previous default: {PREVIOUS_DEFAULT}."
        )
        text = "\n\n".join(t.markdown() for t in tables)
        write_section(
            Path(__file__).resolve().parent.parent / "BENCHMARKS.md",
            "corpora",
            header + "\n\n" + text,
        )


if __name__ == "__main__":
    main()
