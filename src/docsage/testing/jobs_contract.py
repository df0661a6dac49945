"""The behaviour every ``JobStore`` must have, as a pytest base class (like ``StoreContract``)::

    class TestMyJobStore(JobStoreContract):
        def make_store(self, location: Path) -> JobStore:
            return MyJobStore(location)

``make_store`` called twice with the same ``location`` must open the same jobs (another
worker): what one has flushed, the other sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from docsage.ports import Job, JobState, JobStore

JOB = Job(
    id="job_1", key_id="k1", collection="docs", path="/srv/docs", created_at=1.0, updated_at=1.0
)


class JobStoreContract:
    """Subclass as ``Test<YourJobStore>`` and implement ``make_store``."""

    def make_store(self, location: Path) -> JobStore:
        raise NotImplementedError("a JobStoreContract subclass must implement make_store")

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        return tmp_path / "jobs"

    @pytest.fixture
    def jobs(self, location: Path) -> Iterator[JobStore]:
        jobs = self.make_store(location)
        try:
            yield jobs
        finally:
            jobs.close()

    @pytest.fixture
    def other(self, location: Path, jobs: JobStore) -> Iterator[JobStore]:
        """A second worker on the same jobs."""
        other = self.make_store(location)
        try:
            yield other
        finally:
            other.close()

    def test_unknown_job(self, jobs: JobStore) -> None:
        assert jobs.get("job_missing") is None
        assert jobs.cancel_requested("job_missing") is False

    def test_job_state_round_trips(self, jobs: JobStore, other: JobStore) -> None:
        jobs.save(JOB)
        jobs.flush()
        assert other.get(JOB.id) == JOB
        running = replace(JOB, state="running", progress={"parse": [3, 10]}, updated_at=2.0)
        jobs.save(running)
        jobs.flush()
        assert other.get(JOB.id) == running
        done = replace(
            running,
            state="done",
            progress={"parse": [10, 10], "embed": [40, 40]},
            result={"files": 10, "skipped": [{"source": "x.bin", "reason": "binary"}]},
            updated_at=3.0,
        )
        jobs.save(done)
        jobs.flush()
        assert other.get(JOB.id) == done

    @pytest.mark.parametrize("state", ["failed", "cancelled"])
    def test_an_error_round_trips(self, jobs: JobStore, state: JobState) -> None:
        ended = replace(JOB, key_id=None, state=state, error="it broke", updated_at=2.0)
        jobs.save(ended)
        jobs.flush()
        assert jobs.get(JOB.id) == ended

    def test_jobs_are_kept_apart(self, jobs: JobStore) -> None:
        second = replace(JOB, id="job_2", collection="other", key_id="k2")
        jobs.save(JOB)
        jobs.save(second)
        jobs.request_cancel(second.id)
        jobs.flush()
        assert jobs.get(JOB.id) == JOB and jobs.get(second.id) == second
        assert not jobs.cancel_requested(JOB.id) and jobs.cancel_requested(second.id)

    def test_a_cancel_request_reaches_other_workers_and_survives_saves(
        self, jobs: JobStore, other: JobStore
    ) -> None:
        jobs.save(JOB)
        jobs.flush()
        other.request_cancel(JOB.id)
        other.flush()
        assert jobs.cancel_requested(JOB.id)
        jobs.save(replace(JOB, state="running", progress={"parse": [1, 2]}, updated_at=2.0))
        jobs.flush()
        assert jobs.cancel_requested(JOB.id), "saving the job's progress cleared the request"
        assert other.cancel_requested(JOB.id)

    def test_jobs_persist_across_reopening(self, location: Path) -> None:
        jobs = self.make_store(location)
        jobs.save(JOB)
        jobs.close()  # closing commits what was saved
        again = self.make_store(location)
        try:
            assert again.get(JOB.id) == JOB
        finally:
            again.close()
