"""SIGKILL an ingest at several points and check that the index is never half-written.

A child process ingests a new version of a ~300-file corpus over an index of the old version
and is killed: while the text transaction is open, between embedding batches, and at
measured fractions of a clean run's duration. After each kill the SQLite file must pass its
integrity checks and hold exactly the old text or exactly the new text, and vectors that
were committed must be correct; a second ingest must then finish the job, giving the same
index as a clean run and embedding none of the texts whose vectors survived the kill.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from docsage.app import Docsage
from docsage.settings import Settings
from docsage.store.sqlite import fts_table
from docsage.testing.embedders import CountingEmbedder

pytestmark = pytest.mark.slow

FILES = 300
MODEL = "fake-hash"  # the name CountingEmbedder and SlowHashEmbedder share with HashEmbedder
SECONDS_PER_TEXT = 0.0015

CHILD = """
import sys, time
from pathlib import Path
from docsage.app import Docsage
from docsage.settings import Settings
from docsage.testing.embedders import SlowHashEmbedder

home, root, pause_stage, pause_at, seconds_per_text = sys.argv[1:]
started = time.perf_counter()

def progress(stage, done, total):
    print(f"{stage} {done} {total} {time.perf_counter() - started:.4f}", flush=True)
    if stage == pause_stage and done == int(pause_at):
        print("PAUSED", flush=True)
        time.sleep(600)

embedder = SlowHashEmbedder(float(seconds_per_text))
with Docsage(Settings.from_env(environ={}, home=Path(home)), embedder=embedder) as ds:
    ds.ingest(root, collection="c", replace_source=True, progress=progress)
print(f"DONE {time.perf_counter() - started:.4f}", flush=True)
"""


def page(number: int, version: int) -> str:
    topics = ["install", "configure", "deploy", "monitor"]
    sections = [
        f"## {topic.title()} part {number}\n\n"
        + " ".join(f"{topic}{number}word{w} v{version}" for w in range(40))
        for topic in topics
    ]
    return f"# Page {number}\n\nIntro of page {number}, version {version}.\n\n" + "\n\n".join(
        sections
    )


def write_corpus(root: Path, version: int) -> None:
    """Version 1: pages 0..299. Version 2: pages 0..49 unchanged, 50..279 edited, 280..299
    deleted, 300..329 new."""
    root.mkdir(parents=True)
    numbers = range(FILES) if version == 1 else range(FILES + 30)
    for number in numbers:
        if version == 2 and 280 <= number < FILES:
            continue
        text_version = 1 if number < 50 else version
        (root / f"section{number % 7}" / f"page{number:03d}.md").parent.mkdir(exist_ok=True)
        (root / f"section{number % 7}" / f"page{number:03d}.md").write_text(
            page(number, text_version)
        )


State = tuple[dict[str, str], dict[str, list[tuple[str, str]]]]


def text_state(index: Path) -> State:
    """Documents (source -> content hash) and every source's chunks (id, text hash)."""
    conn = sqlite3.connect(index)
    try:
        documents = dict(
            conn.execute("SELECT source, content_hash FROM documents WHERE collection = 'c'")
        )
        chunks: dict[str, list[tuple[str, str]]] = {}
        for source, chunk_id, text_hash in conn.execute(
            "SELECT source, id, text_hash FROM chunks WHERE collection = 'c'"
            " ORDER BY source, ordinal"
        ):
            chunks.setdefault(source, []).append((chunk_id, text_hash))
        return documents, chunks
    finally:
        conn.close()


def vectors(index: Path) -> dict[str, bytes]:
    conn = sqlite3.connect(index)
    try:
        rows = conn.execute("SELECT text_hash, vector FROM vectors WHERE model = ?", (MODEL,))
        return {str(h): bytes(v) for h, v in rows}
    finally:
        conn.close()


def check_integrity(index: Path) -> None:
    conn = sqlite3.connect(index)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        fts = fts_table("c")
        conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        fts_rows = conn.execute(f"SELECT count(*) FROM {fts}").fetchone()
        assert fts_rows == conn.execute("SELECT count(*) FROM chunks").fetchone()
    finally:
        conn.close()


def ingest_in_process(home: Path, root: Path) -> CountingEmbedder:
    embedder = CountingEmbedder()
    with Docsage(Settings.from_env(environ={}, home=home), embedder=embedder) as ds:
        report = ds.ingest(root, collection="c", replace_source=True)
    assert report.vectors_missing == 0
    return embedder


@dataclass
class Corpus:
    v1: Path
    v2: Path
    v1_index: Path  # a closed index holding version 1, text and vectors
    old: State
    new: State
    new_vectors: dict[str, bytes]  # text hash -> vector after a clean run of version 2


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    base = tmp_path_factory.mktemp("crash")
    write_corpus(base / "v1", 1)
    write_corpus(base / "v2", 2)
    ingest_in_process(base / "home-v1", base / "v1")
    v1_index = base / "home-v1" / "index.sqlite"
    shutil.copytree(base / "home-v1", base / "home-v2")
    ingest_in_process(base / "home-v2", base / "v2")
    v2_index = base / "home-v2" / "index.sqlite"
    old, new = text_state(v1_index), text_state(v2_index)
    assert len(old[0]) == FILES and len(new[0]) == FILES + 10
    assert old != new
    return Corpus(
        v1=base / "v1",
        v2=base / "v2",
        v1_index=v1_index,
        old=old,
        new=new,
        new_vectors=vectors(v2_index),
    )


def start_child(
    home: Path, root: Path, pause_stage: str = "", pause_at: int = -1
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            str(home),
            str(root),
            pause_stage,
            str(pause_at),
            str(SECONDS_PER_TEXT),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_until(child: subprocess.Popen[str], marker: str, timeout: float = 60.0) -> list[str]:
    assert child.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            raise AssertionError(
                f"child ended before {marker!r}: {child.stderr.read() if child.stderr else ''}"
            )
        lines.append(line.strip())
        if line.startswith(marker):
            return lines
    raise AssertionError(f"no {marker!r} within {timeout} s")


def reap(child: subprocess.Popen[str]) -> int:
    child.wait(timeout=30)
    for pipe in (child.stdout, child.stderr):
        if pipe is not None:
            pipe.close()
    return child.returncode


def kill(child: subprocess.Popen[str]) -> None:
    child.send_signal(signal.SIGKILL)
    assert reap(child) == -signal.SIGKILL


def fresh_home(corpus: Corpus, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(corpus.v1_index, home / "index.sqlite")
    return home


def text_hashes_of(texts: list[str]) -> set[str]:
    return {hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts}


def check_after_kill_and_resume(corpus: Corpus, home: Path) -> tuple[State, dict[str, bytes]]:
    """The checks every kill must pass; returns what the killed run left behind."""
    index = home / "index.sqlite"
    check_integrity(index)
    state = text_state(index)
    assert state in (corpus.old, corpus.new), "the index holds a mix of old and new text"
    survived = vectors(index)
    for text_hash, vector in survived.items():
        # Every committed vector is whole and right (v1-only texts are not in new_vectors).
        assert corpus.new_vectors.get(text_hash, vector) == vector
    needed = {h for chunks in corpus.new[1].values() for _, h in chunks}

    embedder = ingest_in_process(home, corpus.v2)
    check_integrity(index)
    assert text_state(index) == corpus.new
    after = vectors(index)
    assert {h: after[h] for h in needed} == {h: corpus.new_vectors[h] for h in needed}
    recomputed = text_hashes_of(embedder.texts)
    assert recomputed.isdisjoint(survived), "vectors written before the kill were recomputed"
    assert recomputed == needed - set(survived)
    return state, survived


def test_kill_inside_the_text_transaction_keeps_the_old_index(
    corpus: Corpus, tmp_path: Path
) -> None:
    home = fresh_home(corpus, tmp_path)
    child = start_child(home, corpus.v2, "files", 150)
    read_until(child, "PAUSED")
    wal = home / "index.sqlite-wal"
    kill(child)
    assert wal.exists()  # the killed writer left its WAL behind; recovery must cope with it
    state, _ = check_after_kill_and_resume(corpus, home)
    assert state == corpus.old


def test_kill_between_embedding_batches_keeps_text_and_committed_vectors(
    corpus: Corpus, tmp_path: Path
) -> None:
    home = fresh_home(corpus, tmp_path)
    child = start_child(home, corpus.v2, "embeddings", 256)
    lines = read_until(child, "PAUSED")
    total = int(next(line for line in lines if line.startswith("embeddings")).split()[2])
    assert total > 512  # so the kill leaves work on both sides
    kill(child)
    state, survived = check_after_kill_and_resume(corpus, home)
    assert state == corpus.new
    new_hashes = {h for chunks in corpus.new[1].values() for _, h in chunks}
    old_hashes = {h for chunks in corpus.old[1].values() for _, h in chunks}
    assert len(set(survived) & (new_hashes - old_hashes)) == 256


@pytest.fixture(scope="module")
def clean_run_seconds(
    corpus: Corpus, tmp_path_factory: pytest.TempPathFactory
) -> tuple[float, float]:
    """(seconds until embedding starts, seconds until done) for an unkilled child run."""
    home = tmp_path_factory.mktemp("clean-home")
    shutil.copy(corpus.v1_index, home / "index.sqlite")
    started = time.monotonic()
    child = start_child(home, corpus.v2)
    lines = read_until(child, "DONE")
    assert reap(child) == 0
    startup = time.monotonic() - started - float(lines[-1].split()[1])
    embed_start = next(float(line.split()[3]) for line in lines if line.startswith("embeddings 0"))
    assert text_state(home / "index.sqlite") == corpus.new
    return startup + embed_start, startup + float(lines[-1].split()[1])


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.85, 0.97, 1.03, 1.2, 1.6])
def test_kill_at_measured_moments(
    corpus: Corpus, tmp_path: Path, clean_run_seconds: tuple[float, float], fraction: float
) -> None:
    """Fractions of the time until embedding starts: below 1 the text transaction is open
    (or the process is still starting), around 1 it commits, above 1 it is embedding."""
    embed_start, _ = clean_run_seconds
    home = fresh_home(corpus, tmp_path)
    child = start_child(home, corpus.v2)
    time.sleep(embed_start * fraction)
    kill(child)
    check_after_kill_and_resume(corpus, home)
