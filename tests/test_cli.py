"""The installed ``docsage`` command, run as a real subprocess with its own index folder."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

DOCSAGE = Path(sys.executable).parent / "docsage"

GUIDE = """\
# Guide

Install with pip install tidepool.

## Retries

Set max_retries to control how often a failed job is attempted again.
"""


def run(
    home: Path,
    *args: str,
    embedder: str | None = "fake:hash",
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``docsage ARGS`` with only the DOCSAGE_ variables given here (fake embedder unless
    ``embedder`` is None, which leaves the default, the real ONNX model)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    full_env |= {"DOCSAGE_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    if embedder is not None:
        full_env["DOCSAGE_EMBEDDER"] = embedder
    result = subprocess.run(
        [str(DOCSAGE), *args], env=full_env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "guide.md").write_text(GUIDE)
    (root / "bad.py").write_text("def broken(:\n")
    (root / "blob.md").write_bytes(b"\x00\x01\x02")
    (root / "huge.txt").write_text("x" * 2000)
    return root


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_ingest_prints_a_summary_with_skip_reasons(home: Path, docs: Path) -> None:
    out = run(home, "ingest", str(docs), "-c", "c", "--quiet").stdout
    assert "Ingested 2 files / 3 chunks into c (index v1)" in out
    assert "3 chunks embedded" in out
    assert "Skipped 2 files" in out
    assert "not valid Python" in out and "bad.py" in out
    assert "binary file" in out and "blob.md" in out
    again = run(home, "ingest", str(docs), "-c", "c", "--quiet").stdout
    assert "Ingested 0 files / 0 chunks" in again and "2 unchanged" in again


def test_ingest_respects_the_size_limit_setting(home: Path, docs: Path) -> None:
    out = run(
        home, "ingest", str(docs), "-c", "c", "-q", env={"DOCSAGE_MAX_FILE_BYTES": "1000"}
    ).stdout
    assert "Ingested 1 files" in out
    assert "over the size limit" in out and "huge.txt" in out


def search_json(home: Path, query: str, *extra: str) -> dict[str, Any]:
    result = run(home, "search", query, "-c", "c", "--json", *extra)
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_search_json_has_provenance(home: Path, docs: Path) -> None:
    run(home, "ingest", str(docs), "-c", "c", "-q")
    body = search_json(home, "max_retries")
    assert body["query"] == "max_retries"
    assert body["dense"] is True
    top = body["hits"][0]
    assert {"source", "anchor", "title", "score", "text", "lines"} <= set(top)
    assert (top["source"], top["anchor"], top["title"]) == ("guide.md", "retries", "Retries")
    assert top["lines"] == [7, 7]
    assert "max_retries" in top["text"]
    assert isinstance(top["score"], float) and top["score"] > 0
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert len(search_json(home, "max_retries", "-k", "1")["hits"]) == 1


def test_search_without_vectors_still_returns_lexical_hits(home: Path, docs: Path) -> None:
    out = run(home, "ingest", str(docs), "-c", "c", "-q", "--no-embed").stdout
    assert "0 chunks embedded" in out
    body = search_json(home, "max_retries")
    assert body["dense"] is False
    assert body["hits"][0]["anchor"] == "retries"
    assert all(h["dense_rank"] is None for h in body["hits"])
    text = run(home, "search", "max_retries", "-c", "c").stdout
    assert "guide.md#retries" in text and "vectors not built yet" in text
    run(home, "embed", "-c", "c")
    assert search_json(home, "max_retries")["dense"] is True


@pytest.mark.parametrize("command", [["search", "anything"], ["ask", "anything?"]])
def test_unknown_collection_is_a_usage_error(home: Path, docs: Path, command: list[str]) -> None:
    run(home, "ingest", str(docs), "-c", "c", "-q")
    result = run(home, *command, "-c", "nope", check=False)
    assert result.returncode == 2
    assert "no collection named 'nope'" in result.stderr
    assert "docsage ingest" in result.stderr
    assert "Traceback" not in result.stderr


def test_ingest_of_a_missing_folder_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    result = run(home, "ingest", str(tmp_path / "missing"), check=False)
    assert result.returncode == 2
    assert "not a folder" in result.stderr


def test_unknown_search_mode_is_a_usage_error(home: Path, docs: Path) -> None:
    run(home, "ingest", str(docs), "-c", "c", "-q")
    result = run(home, "search", "x", "-c", "c", "--mode", "fuzzy", check=False)
    assert result.returncode == 2
    assert "hybrid" in result.stderr


@pytest.mark.slow
def test_ask_json_with_the_real_model(home: Path, docs: Path) -> None:
    run(home, "ingest", str(docs), "-c", "c", "-q", embedder=None)
    result = run(home, "ask", "How do I set max_retries?", "-c", "c", "--json", embedder=None)
    body = json.loads(result.stdout)
    assert {"answer", "citations", "confidence", "abstained", "timings"} <= set(body)
    assert body["abstained"] is False
    assert 0.0 <= body["confidence"] <= 1.0
    first = body["citations"][0]
    assert (first["source"], first["anchor"], first["lines"]) == ("guide.md", "retries", [7, 7])
    assert "max_retries" in first["quote"]
    assert "[1]" in body["answer"]
    assert body["timings"]["total_ms"] > 0
    assert set(body["timings"]) >= {"retrieve_ms", "generate_ms", "total_ms"}


def test_ask_abstains_on_an_uncovered_question(home: Path, docs: Path) -> None:
    run(home, "ingest", str(docs), "-c", "c", "-q")
    body = json.loads(
        run(home, "ask", "What is the airspeed of a swallow?", "-c", "c", "--json").stdout
    )
    assert body["abstained"] is True
    assert body["citations"] == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DOCSAGE_FUSION": "borda"}, "DOCSAGE_FUSION='borda': Input should be 'zscore' or 'rrf'"),
        ({"DOCSAGE_MODEL_JSON_MODE": "json-schema"}, "should be 'json_schema', 'json_object'"),
        ({"DOCSAGE_MAX_FILE_BYTES": "lots"}, "DOCSAGE_MAX_FILE_BYTES='lots': Input should be"),
        ({"DOCSAGE_DENSE_WEIGHT": "-1"}, "both must be >= 0"),
    ],
)
def test_bad_fusion_settings_fail_with_the_remedy(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run(tmp_path / "home", "search", "retries", check=False, env=env)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())


def test_ctrl_c_during_an_ingest_leaves_a_consistent_index(home: Path, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    # Three embedding batches of 256, of passages long enough that a batch takes seconds: the
    # interrupt lands after the first commit and well before the last on any machine.
    filler = " ".join(f"word{j} explains setting {j} of the retry policy." for j in range(10))
    for i in range(600):
        (root / f"page{i}.md").write_text(f"# Page {i}\n\nTopic number {i}: {filler}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    env |= {"DOCSAGE_HOME": str(home), "NO_COLOR": "1"}
    child = subprocess.Popen(
        [str(DOCSAGE), "ingest", str(root), "-c", "c", "-q"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _vectors(home):  # a first batch committed
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert "interrupted: the index keeps what was committed" in err and "Traceback" not in err
    again = run(home, "ingest", str(root), "-c", "c", "-q", embedder=None).stdout
    assert "Ingested 0 files" in again and "600 unchanged" in again  # the text was kept
    assert _vectors(home) == 600  # and embedding resumed where it stopped


def _vectors(home: Path) -> int:
    try:
        with sqlite3.connect(home / "index.sqlite", timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
