"""Line-range benchmark: do chunks of text sources cite the lines their text came from?

    python benchmarks/lines.py

Ingests the reST sources of the Python 3.11 docs (`_sources/**/*.rst.txt`, 500+ files; no
embedding) into a temporary index and checks every chunk against its file: a chunk's range
"covers its text" when at least half of its words (4+ letters) occur in those source lines.
Sphinx's version notes are rendered ("New in version 3.2") from a directive
(".. versionadded:: 3.2"), so the directive is read as those words. Rewrites the `lines`
part of BENCHMARKS.md.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import python_docs
from report import Table, write_section
from retrieval import REPO_BENCH

from docsage.app import Docsage
from docsage.settings import Settings

_WORD = re.compile(r"[a-z_]{4,}")
_DIRECTIVES = (
    (re.compile(r"\.\. versionadded::"), "new in version"),
    (re.compile(r"\.\. versionchanged::"), "changed in version"),
    (re.compile(r"\.\. deprecated(?:-removed)?::"), "deprecated since version"),
)


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def covers(text: str, source_lines: list[str], start: int, end: int) -> bool | None:
    """Whether lines start..end hold at least half the chunk's words; None if it has none."""
    wanted = words(text)
    if not wanted:
        return None
    span = " ".join(source_lines[start - 1 : end])
    for pattern, rendered in _DIRECTIVES:
        span = pattern.sub(rendered, span)
    return len(wanted & words(span)) / len(wanted) >= 0.5


def check(root: Path) -> tuple[Counter[str], int, float]:
    with tempfile.TemporaryDirectory() as home:
        ds = Docsage(Settings.from_env(environ={"DOCSAGE_EMBEDDER": "none"}, home=Path(home)))
        started = time.perf_counter()
        report = ds.ingest(root, collection="rst", use_default_ignores=False, embed=False)
        seconds = time.perf_counter() - started
        ds.close()
        rows = sqlite3.connect(Path(home) / "index.sqlite").execute(
            "SELECT source, text, line_start, line_end FROM chunks"
        )
        files: dict[str, list[str]] = {}
        counts: Counter[str] = Counter()
        for source, text, start, end in rows:
            if start is None:
                counts["no line range"] += 1
                continue
            if source not in files:
                files[source] = (root / source).read_text(encoding="utf-8").splitlines()
            verdict = covers(text, files[source], start, end)
            if verdict is None:
                counts["no words to check"] += 1
            else:
                counts["range covers its text" if verdict else "range points elsewhere"] += 1
    return counts, report.files_ingested, seconds


def main() -> None:
    root = python_docs() / "_sources"
    counts, files, seconds = check(root)
    total = sum(counts.values())
    table = Table(
        f"Chunks of {files} reST files of the Python 3.11 docs ({total} chunks)",
        ["chunks", "count", "share"],
    )
    for name in (
        "range covers its text",
        "range points elsewhere",
        "no line range",
        "no words to check",
    ):
        table.add(name, str(counts[name]), f"{counts[name] / total:.2%}")
    text = table.markdown()
    print(text)
    header = (
        f"Command: `python benchmarks/lines.py` (ingest {seconds:.1f} s). "
        f"Date: {time.strftime('%Y-%m-%d')}. A range covers its text when at least half of "
        "the chunk's words (4+ letters) occur in those source lines."
    )
    write_section(REPO_BENCH, "lines", header + "\n\n" + text)


if __name__ == "__main__":
    main()
