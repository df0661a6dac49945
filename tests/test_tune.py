"""``docsage tune``: pairs mined from a real ingest of a few files, and (with the ``tune``
extra) a real fine-tune, ONNX export and int8 quantisation, loaded back through the
``onnx:<path>.onnx`` embedder setting and compared with the shipped model on the mined pairs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from docsage.app import Docsage
from docsage.models.onnx import MODEL_NAME, OnnxMiniLM
from docsage.settings import Settings
from docsage.testing.embedder_contract import EmbedderContract
from docsage.tune import TrainConfig
from docsage.tune.pairs import Pair, mine_pairs

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None,
    reason="torch is not installed (the tune extra: pip install 'docsage[tune]')",
)

TOPICS = {
    "pooling.md": (
        "Connection pooling",
        {
            "Pool overflow": "When every pooled connection is checked out, up to max_overflow "
            "extra connections are opened and closed again once they are returned.",
            "Recycling stale connections": "Connections older than pool_recycle seconds are "
            "replaced on checkout, which avoids servers that drop idle links overnight.",
            "Pre-ping": "Before handing out a connection the pool can send a cheap test "
            "statement, so a dead socket is noticed and replaced transparently.",
            "Disabling the pool": "Use NullPool to open a fresh connection for every request; "
            "this suits serverless functions that are frozen between calls.",
        },
    ),
    "caching.md": (
        "Result caching",
        {
            "Cache keys": "Each entry is stored under a hash of the compiled statement and its "
            "bound parameters, so two identical queries share one cached result.",
            "Expiry": "Entries expire after a time to live measured in seconds; a zero value "
            "keeps them until the process restarts or memory runs low.",
            "Invalidation on write": "Any insert, update or delete that touches a table drops "
            "the cached results that read from that table.",
            "Memory limits": "The cache evicts the least recently used entries once its size "
            "in bytes passes the configured ceiling.",
        },
    ),
    "logging.md": (
        "Logging",
        {
            "Echoing statements": "Setting echo to true writes every SQL statement and its "
            "parameters to the standard logger named after the engine.",
            "Log levels": "INFO shows statements, DEBUG adds the rows each query returned, and "
            "WARNING keeps only problems such as slow checkouts.",
            "Hiding parameters": "Pass hide_parameters so that passwords and personal data in "
            "bound values never reach the log files.",
            "Structured output": "A JSON formatter turns each log record into one line with "
            "the statement, its duration and the connection id.",
        },
    ),
}
RECORDS = [
    {"_id": "r1", "title": "Vitamin D and bone density", "text": "A cohort of older adults "
     "taking supplements lost less bone mass over five years than the placebo group."},
    {"_id": "r2", "title": "A title that is the whole text of its own record",
     "text": "A title that is the whole text of its own record"},
    {"_id": "r3", "title": "Vitamin D and bone density", "text": "A second record with the "
     "same title is a duplicate query and gives no second pair."},
]  # fmt: skip


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tune")
    docs = root / "docs"
    docs.mkdir()
    for name, (title, sections) in TOPICS.items():
        body = "\n\n".join(f"## {h}\n\n{text}" for h, text in sections.items())
        (docs / name).write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
    lines = "\n".join(json.dumps(r) for r in RECORDS)
    (docs / "corpus.jsonl").write_text(lines + "\n", encoding="utf-8")
    with Docsage(Settings(home=root / "home", embedder="none")) as ds:
        ds.ingest(docs, collection="tiny")
    return root / "home"


def _mined(home: Path, limit: int = 100) -> list[Pair]:
    with Docsage(Settings(home=home, embedder="none")) as ds:
        return mine_pairs(ds.store, "tiny", limit=limit).pairs


def test_pairs_are_headings_to_sections_and_titles_to_records(home: Path) -> None:
    with Docsage(Settings(home=home, embedder="none")) as ds:
        mined = mine_pairs(ds.store, "tiny", limit=100)
    found = {(p.query, p.passage) for p in mined.pairs}
    section = TOPICS["pooling.md"][1]["Pool overflow"]
    assert ("Connection pooling: Pool overflow", section) in found
    assert ("Recycling stale connections", TOPICS["pooling.md"][1][
        "Recycling stale connections"]) in found  # fmt: skip
    assert ("Vitamin D and bone density", RECORDS[0]["text"]) in found
    assert mined.by_kind() == {"section": 12, "record": 1}
    assert mined.skipped["trivial"] == 1
    assert mined.skipped["duplicate"] == 1
    assert not any(p.query == p.passage for p in mined.pairs)


def test_the_pair_limit_is_a_seeded_sample(home: Path) -> None:
    first, again = _mined(home, limit=5), _mined(home, limit=5)
    assert len(first) == 5
    assert first == again


def _loss_and_mrr(queries: np.ndarray, passages: np.ndarray) -> tuple[float, float]:
    """In-batch loss over all pairs at once (scale 20) and MRR of each query's own passage."""
    logits = 20.0 * queries @ passages.T
    logits -= logits.max(axis=1, keepdims=True)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = float(-np.diag(log_softmax).mean())
    ranks = (logits > np.diag(logits)[:, None]).sum(axis=1) + 1
    return loss, float((1.0 / ranks).mean())


@pytest.fixture(scope="module")
def tuned(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = TrainConfig(epochs=4, batch_size=8, lr=1e-4, seed=0)
    with Docsage(Settings(home=home, embedder="none")) as ds:
        report = ds.tune(collection="tiny", out=tmp_path_factory.mktemp("model"), config=config)
    assert report.steps == 8
    assert report.model is not None
    assert report.setting == f"DOCSAGE_EMBEDDER=onnx:{report.model}"
    return report.model


@pytest.mark.slow
@needs_torch
def test_the_tuned_model_ranks_the_mined_passages_better_than_the_base(
    home: Path, tuned: Path
) -> None:
    pairs = _mined(home)
    with Docsage(Settings(home=home, embedder=f"onnx:{tuned}")) as ds:
        model = ds.embedder
        assert model is not None
        assert model.name != MODEL_NAME and model.name.startswith("model.int8@")
        vectors = model.embed([p.passage for p in pairs])
        assert vectors.shape == (len(pairs), 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        after = _loss_and_mrr(model.embed([p.query for p in pairs]), vectors)
        done, missing = ds.embed_pending(collection="tiny")
        assert (done, missing) == (18, 0)
        hits = ds.search("Logging: Hiding parameters", collection="tiny", mode="dense").hits
        assert hits[0].chunk.heading == "Hiding parameters"
    base = OnnxMiniLM()
    before = _loss_and_mrr(
        base.embed([p.query for p in pairs]), base.embed([p.passage for p in pairs])
    )
    assert after[0] < before[0], (before, after)
    assert after[1] >= before[1], (before, after)


@pytest.mark.slow
@needs_torch
class TestTunedOnnxEmbedder(EmbedderContract):
    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls, tuned: Path) -> OnnxMiniLM:
        return OnnxMiniLM(batch_size=8, model_path=tuned)


def _cli(home: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    env |= {"DOCSAGE_HOME": str(home), "DOCSAGE_EMBEDDER": "none", "COLUMNS": "200"}
    command = [str(Path(sys.executable).parent / "docsage"), "tune", *args]
    return subprocess.run(command, env=env | extra_env, capture_output=True, text=True, timeout=600)


def test_without_the_extra_the_command_names_the_install(home: Path, tmp_path: Path) -> None:
    # torch made unimportable in the child (a None entry in sys.modules is how Python marks
    # a module as absent), so this runs whether or not the extra is installed here.
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    result = _cli(home, "-c", "tiny", PYTHONPATH=str(tmp_path))
    assert result.returncode == 2
    assert "pip install 'docsage[tune]'" in result.stderr


@pytest.mark.slow
@needs_torch
def test_the_command_prints_the_setting_that_uses_the_model(home: Path, tmp_path: Path) -> None:
    result = _cli(home, "-c", "tiny", "--pairs", "6", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "mined 6 pairs from 18 chunks" in result.stdout
    assert f"use it with: DOCSAGE_EMBEDDER=onnx:{tmp_path / 'model.int8.onnx'}" in result.stdout
    assert (tmp_path / "model.int8.onnx").is_file()
