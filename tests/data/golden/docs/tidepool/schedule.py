"""Periodic jobs: run a function on a cron schedule or at a fixed interval."""

from __future__ import annotations


class Schedule:
    """A table of periodic jobs, checked by the scheduler process once per second.

    Start the scheduler with ``tidepool scheduler``; run exactly one of them per broker, or
    every periodic job is enqueued once per scheduler.
    """

    def every(self, seconds: float, func, *args):
        """Run ``func`` every ``seconds`` seconds, starting one interval from now.

        The interval is measured from the start of one run to the start of the next, so a
        slow job does not push later runs back.
        """
        return self._add(("interval", seconds), func, args)

    def cron(self, expression: str, func, *args):
        """Run ``func`` whenever the five-field cron ``expression`` matches, in UTC.

        For example ``cron("0 3 * * *", backup)`` runs ``backup`` daily at 03:00 UTC.
        """
        return self._add(("cron", expression), func, args)

    def remove(self, entry):
        """Take a periodic job, as returned by ``every`` or ``cron``, off the table.

        Jobs it already enqueued stay on their queue.
        """
        return entry

    def _add(self, trigger, func, args):
        return (trigger, func, args)


def task(timeout: float | None = None, retries: int | None = None):
    """Decorator that registers a function as a tidepool task.

    ``timeout`` and ``retries`` override the queue's ``job_timeout`` and ``max_retries``
    for this task only.
    """

    def wrap(func):
        func.tidepool_options = {"timeout": timeout, "retries": retries}
        return func

    return wrap
