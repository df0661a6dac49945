"""Answer quality and abstention on the FAQ dev sets, docsage against a naive extract, in one
run. Rewrites the "answers" section of BENCHMARKS.md.

    python benchmarks/answers.py                          # both FAQ sets, FAQ pages in and out
    python benchmarks/answers.py --only git-faq --no-write

For each FAQ dev set (sqlalchemy-faq, git-faq; ../shared/bench) the docs are indexed twice:
as they are, and with the FAQ pages left out, so the answer must come from the rest of the
docs. Per answerable question, token-F1 (SQuAD v1.1) of the answer against the FAQ's own
reference answer:
- docsage: ``docsage ask`` with the default settings (the extractive answerer, no LLM); an
  abstention scores 0, citation markers and the "Sources" list are not part of the answer;
- naive: the top BM25 passage (bm25s over docsage's own chunks) cut to the two sentences
  that share most words with the question.
Abstention: the share of answerable questions docsage abstains on (want <= 0.10) and of the
unanswerable controls (want >= 0.80).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import Case
from corpora import CORPORA, HOME, Corpus, _bm25, searchable_text
from report import Table, write_section

from docsage.app import Docsage
from docsage.evals.metrics import token_f1
from docsage.evals.stats import bootstrap_ci, paired_bootstrap_diff
from docsage.settings import Settings
from docsage.text import query_tokens, split_sentences, strip_citations

FAQ_SETS = ("sqlalchemy-faq", "git-faq")
# What "FAQ pages left out" leaves out of each corpus (gitignore patterns for ingest).
FAQ_PAGES = {"sqlalchemy-faq": ("faq/",), "git-faq": ("gitfaq.*",)}


@dataclass(frozen=True)
class Scored:
    docsage: list[float]
    naive: list[float]
    abstained_answerable: float
    abstained_unanswerable: float


def answer_text(text: str) -> str:
    """The answer as a reader takes it: without citation markers or the list of sources."""
    return strip_citations(text.split("\nSources:", 1)[0]).strip()


def chunk_texts(collection: str) -> list[str]:
    with sqlite3.connect(HOME / "index.sqlite") as conn:
        rows = conn.execute(
            "SELECT heading_path, text FROM chunks WHERE collection = ? ORDER BY rowid",
            (collection,),
        ).fetchall()
    return [searchable_text(r[0], r[1]) for r in rows]


def naive_answers(texts: list[str], cases: Sequence[Case]) -> list[str]:
    """Top BM25 passage, cut to its two sentences with most question-word overlap (in the
    passage's order)."""
    top = _bm25(texts, [c.question for c in cases], 1)
    out = []
    for case, row in zip(cases, top, strict=True):
        sentences = split_sentences(texts[int(row[0])]) or [texts[int(row[0])]]
        words = set(query_tokens(case.question))
        ranked = sorted(
            range(len(sentences)), key=lambda i: -len(words & set(query_tokens(sentences[i])))
        )
        out.append(" ".join(sentences[i] for i in sorted(ranked[:2])))
    return out


def run_variant(ds: Docsage, corpus: Corpus, collection: str, ignore: tuple[str, ...]) -> Scored:
    ds.ingest(corpus.root(), collection=collection, ignore=ignore)
    cases = corpus.cases()
    answerable = [c for c in cases if c.answerable and c.reference]
    controls = [c for c in cases if not c.answerable]
    answers = {c.id: ds.ask(c.question, collection=collection) for c in cases}
    ours = [
        0.0 if answers[c.id].abstained else token_f1(answer_text(answers[c.id].text), c.reference)
        for c in answerable
    ]
    naive = naive_answers(chunk_texts(collection), answerable)
    theirs = [token_f1(text, c.reference) for text, c in zip(naive, answerable, strict=True)]
    return Scored(
        docsage=ours,
        naive=theirs,
        abstained_answerable=statistics.fmean(answers[c.id].abstained for c in answerable),
        abstained_unanswerable=statistics.fmean(answers[c.id].abstained for c in controls)
        if controls
        else float("nan"),
    )


def table(name: str, variants: dict[str, Scored]) -> Table:
    t = Table(
        f"{name}: answer token-F1 against the FAQ's reference answers, and abstention",
        [
            "index",
            "questions",
            "docsage F1",
            "naive F1",
            "docsage / naive",
            "docsage - naive, paired 95% CI",
            "docsage F1 95% CI",
            "abstains: answerable",
            "abstains: controls",
        ],
    )
    for variant, s in variants.items():
        ours, theirs = statistics.fmean(s.docsage), statistics.fmean(s.naive)
        diff, low, high = paired_bootstrap_diff(s.naive, s.docsage)
        _, f1_low, f1_high = bootstrap_ci(s.docsage)
        t.add(
            variant,
            str(len(s.docsage)),
            f"{ours:.3f}",
            f"{theirs:.3f}",
            f"{ours / theirs:.2f}x" if theirs else "-",
            f"{diff:+.3f} [{low:+.2f}, {high:+.2f}]",
            f"[{f1_low:.2f}, {f1_high:.2f}]",
            f"{s.abstained_answerable:.2f}",
            f"{s.abstained_unanswerable:.2f}",
        )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=FAQ_SETS, action="append")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    tables = []
    with Docsage(Settings.from_env(environ={}, home=HOME)) as ds:
        for name in args.only or FAQ_SETS:
            corpus = CORPORA[name]
            variants = {
                "FAQ pages in": run_variant(ds, corpus, corpus.collection, ()),
                "FAQ pages left out": run_variant(
                    ds, corpus, corpus.collection + "-nofaq", FAQ_PAGES[name]
                ),
            }
            tables.append(table(name, variants))
            print(tables[-1].markdown(), flush=True)
    if not args.no_write and not args.only:
        header = (
            f"Command: `python benchmarks/answers.py`. Date: {time.strftime('%Y-%m-%d')}. "
            "Default settings (extractive answers, no LLM); an abstention scores 0. Naive: the "
            "top BM25 passage, its two sentences with most question-word overlap. Goals: "
            "docsage >= 2x naive; abstains on <= 0.10 of answerable questions and "
            ">= 0.80 of the unanswerable controls."
        )
        write_section(
            Path(__file__).resolve().parent.parent / "BENCHMARKS.md",
            "answers",
            header + "\n\n" + "\n\n".join(t.markdown() for t in tables),
        )


if __name__ == "__main__":
    main()
