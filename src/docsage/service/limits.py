"""Per-key rate limits and budgets: pure decisions over usage totals.

Rate limits use a sliding 60-second window; budgets count the current UTC day and month. A
limit of None is off. A key's own limits (``ApiKey.limits``) override the settings' defaults;
a key's None exempts it from a default.
"""

from __future__ import annotations

import calendar
import math
import time
from dataclasses import dataclass, fields, replace

from docsage.errors import UsageError
from docsage.ports.keys import LimitOverrides
from docsage.ports.requests import KeyUsage
from docsage.settings import Settings

WINDOW_S = 60.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    rpm: float | None = None
    tpm: float | None = None
    requests_day: float | None = None
    tokens_day: float | None = None
    tokens_month: float | None = None
    usd_day: float | None = None
    usd_month: float | None = None

    @classmethod
    def from_settings(cls, s: Settings, overrides: LimitOverrides | None = None) -> Limits:
        base = cls(
            rpm=s.rate_limit_rpm,
            tpm=s.rate_limit_tpm,
            requests_day=s.budget_requests_day,
            tokens_day=s.budget_tokens_day,
            tokens_month=s.budget_tokens_month,
            usd_day=s.budget_usd_day,
            usd_month=s.budget_usd_month,
        )
        return replace(base, **check_overrides(overrides or {}))


def check_overrides(overrides: LimitOverrides) -> LimitOverrides:
    names = {f.name for f in fields(Limits)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise UsageError(f"unknown limits {unknown}; use some of {sorted(names)}")
    return overrides


def retry_after(minute: KeyUsage, limits: Limits, now: float) -> int | None:
    """Seconds until the window has room again, or None when under both rate limits."""
    over = _reached(limits.rpm, minute.requests) or _reached(limits.tpm, minute.tokens)
    if not over:
        return None
    oldest = minute.oldest if minute.oldest is not None else now
    return max(1, math.ceil(oldest + WINDOW_S - now))


def over_budget(day: KeyUsage, month: KeyUsage, limits: Limits) -> str | None:
    """The first budget reached, as a reason for the response, or None."""
    checks = (
        (limits.requests_day, day.requests, "requests per day"),
        (limits.tokens_day, day.tokens, "tokens per day"),
        (limits.tokens_month, month.tokens, "tokens per month"),
        (limits.usd_day, day.cost_usd, "USD per day"),
        (limits.usd_month, month.cost_usd, "USD per month"),
    )
    for limit, used, what in checks:
        if _reached(limit, used):
            return f"budget of {limit:g} {what} reached ({used:g} used)"
    return None


def _reached(limit: float | None, used: float) -> bool:
    return limit is not None and used >= limit


def day_start(now: float) -> float:
    t = time.gmtime(now)
    return float(calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0)))


def month_start(now: float) -> float:
    t = time.gmtime(now)
    return float(calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)))
