"""The behaviour every ``RunStore`` must have, as a pytest base class (like ``StoreContract``)::

    class TestMyRunStore(RunStoreContract):
        def make_store(self, location: Path) -> RunStore:
            return MyRunStore(location)

``make_store`` called twice with the same ``location`` must open the same runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.errors import NotFoundError, UsageError
from docsage.ports import Record, RunStore, StoredRun


def stored_run(run_id: str, created_at: float, collection: str = "docs") -> StoredRun:
    return StoredRun(
        id=run_id,
        created_at=created_at,
        collection=collection,
        dataset="golden.jsonl",
        k=10,
        mode="hybrid",
        index_version=2,
        n_cases=2,
        n_errors=0,
        summary={"retrieval": {"recall@10": 0.9}, "run": {"k": 10}},
    )


RECORDS: list[Record] = [
    {"id": "q2", "question": "how?", "metrics": {"recall@10": 1.0}},
    {"id": "q1", "question": "why?", "metrics": {"recall@10": 0.8}, "retrieved": ["a.md#x"]},
]


class RunStoreContract:
    """Subclass as ``Test<YourRunStore>`` and implement ``make_store``."""

    def make_store(self, location: Path) -> RunStore:
        raise NotImplementedError("a RunStoreContract subclass must implement make_store")

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        return tmp_path / "runs"

    @pytest.fixture
    def runs(self, location: Path) -> Iterator[RunStore]:
        runs = self.make_store(location)
        try:
            yield runs
        finally:
            runs.close()

    def _three(self, runs: RunStore) -> list[StoredRun]:
        made = [
            stored_run("20250101-000000-aaaa", 100.0),
            stored_run("20250102-000000-bbbb", 200.0, collection="other"),
            stored_run("20250102-000000-bbbc", 300.0),
        ]
        for run in made:
            runs.save(run, RECORDS)
        return made

    def test_no_runs(self, runs: RunStore) -> None:
        assert runs.runs() == []
        with pytest.raises(NotFoundError):
            runs.get("latest")

    def test_a_run_and_its_records_round_trip(self, runs: RunStore) -> None:
        run = stored_run("20250101-000000-aaaa", 100.0)
        runs.save(run, RECORDS)
        assert runs.get(run.id) == run
        assert runs.records(run.id) == RECORDS, "records come back in the order saved"

    def test_runs_are_listed_most_recent_first(self, runs: RunStore) -> None:
        a, b, c = self._three(runs)
        assert runs.runs() == [c, b, a]
        assert runs.runs(collection="docs") == [c, a]
        assert runs.runs(limit=1) == [c]

    def test_get_by_unique_prefix_and_latest(self, runs: RunStore) -> None:
        a, _, c = self._three(runs)
        assert runs.get("latest") == c
        assert runs.get("20250101") == a
        assert runs.get("20250102-000000-bbbc") == c
        assert runs.records("20250101") == RECORDS

    def test_an_ambiguous_prefix_is_refused(self, runs: RunStore) -> None:
        self._three(runs)
        with pytest.raises(UsageError):
            runs.get("20250102")
        with pytest.raises(UsageError):
            runs.records("2025")

    def test_an_unknown_ref_is_not_found(self, runs: RunStore) -> None:
        self._three(runs)
        for ref in ("2024", "nope", "2025%", "2025_"):  # wildcards are not patterns
            with pytest.raises(NotFoundError):
                runs.get(ref)

    def test_runs_persist_across_reopening(self, location: Path) -> None:
        runs = self.make_store(location)
        made = self._three(runs)
        runs.close()
        again = self.make_store(location)
        try:
            assert again.runs() == made[::-1]
            assert again.records("latest") == RECORDS
        finally:
            again.close()
