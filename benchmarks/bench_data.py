"""Loading the benchmark data that lies in ../shared/bench (never copied into the repo)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import tokenize
import zipfile
from ast import literal_eval
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO.parent / "shared" / "bench"
WORK = REPO / ".bench"


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    gold: tuple[str, ...]
    reference: str = ""
    answerable: bool = True


def python_docs(dest: Path = WORK / "pydocs") -> Path:
    """The Python 3.11 HTML docs, fetched once with ../shared/bench/get-python-docs."""
    html = dest / "html"
    if not (html / "library" / "functions.html").exists():
        subprocess.run([str(BENCH / "get-python-docs"), str(dest)], check=True)
    return html


def conala(path: Path = BENCH / "conala-dev.jsonl") -> list[Case]:
    """The cases; a repeated id gets a ``~2`` suffix, as ``docsage eval`` does."""
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        seen[row["id"]] = seen.get(row["id"], 0) + 1
        case_id = row["id"] if seen[row["id"]] == 1 else f"{row['id']}~{seen[row['id']]}"
        cases.append(Case(case_id, row["question"], tuple(row["gold_sources"])))
    return cases


def faq_cases(path: Path) -> list[Case]:
    """A FAQ dev set (answerable cases and the unanswerable controls, ``answerable=False``)."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cases.append(
            Case(
                row["id"],
                row["question"],
                tuple(row["gold_sources"]),
                row.get("reference_answer", ""),
                bool(row.get("answerable", True)),
            )
        )
    return cases


def sqlalchemy_docs() -> Path:
    """The SQLAlchemy Sphinx source root, read where it lies (skip LICENSE when indexing)."""
    return BENCH / "sqlalchemy-docs"


def git_docs(dest: Path = WORK / "gitdocs") -> Path:
    """git 2.39's docs (asciidoc ``.txt`` and HTML), fetched once with get-git-docs."""
    folder = dest / "git"
    if not (folder / "gitfaq.html").exists():
        subprocess.run([str(BENCH / "get-git-docs"), str(dest)], check=True)
    return folder


def _sentences(literal: str) -> list[str]:
    """SciFact abstracts are numpy-style reprs of string lists (no commas): read each
    string token on its own so sentences keep their boundaries."""
    tokens = tokenize.generate_tokens(io.StringIO(literal).readline)
    return [literal_eval(t.string) for t in tokens if t.type == tokenize.STRING]


def scifact(dest: Path = WORK / "scifact") -> tuple[Path, list[Case]]:
    """(folder with corpus.jsonl, the 300 BEIR test claims with their cited docs as gold)."""
    corpus = dest / "corpus" / "corpus.jsonl"
    with zipfile.ZipFile(BENCH / "scifact.zip") as archive:
        if not corpus.exists():
            corpus.parent.mkdir(parents=True, exist_ok=True)
            rows = csv.DictReader(io.StringIO(archive.read("corpus_train.csv").decode()))
            with corpus.open("w", encoding="utf-8") as out:
                for row in rows:
                    text = " ".join(_sentences(row["abstract"]))
                    record = {"id": row["doc_id"], "title": row["title"], "text": text}
                    out.write(json.dumps(record) + "\n")
        claims = csv.DictReader(io.StringIO(archive.read("claims_validation.csv").decode()))
        gold: dict[str, tuple[str, set[str]]] = {}
        for row in claims:
            _, docs = gold.setdefault(row["id"], (row["claim"], set()))
            docs.update(re.findall(r"\d+", row["cited_doc_ids"]))
    cases = [
        Case(cid, q, tuple(f"corpus.jsonl#{d}" for d in sorted(docs)))
        for cid, (q, docs) in gold.items()
        if docs
    ]
    return corpus.parent, cases
