"""Admission: whether a key may make a request now (rate limits) and how it is served when
over a budget (degraded or refused). A request is counted from the moment it is admitted, so
concurrent requests cannot overrun a limit between their admission and their log row."""

from __future__ import annotations

import threading
import time

from docsage.errors import RateLimitError
from docsage.ports import ApiKey, RequestLog
from docsage.service import metrics
from docsage.service.limits import (
    WINDOW_S,
    Limits,
    day_start,
    month_start,
    over_budget,
    retry_after,
)
from docsage.settings import Settings


class Admission:
    def __init__(self, settings: Settings, log: RequestLog) -> None:
        self.settings = settings
        self.log = log
        self._lock = threading.Lock()

    def limits(self, key: ApiKey) -> Limits:
        return Limits.from_settings(self.settings, key.limits)

    def admit(self, key: ApiKey | None, request_id: str, route: str) -> str | None:
        """Reserve a request slot; raise RateLimitError over a rate limit; return why the
        request is over a budget (it is then served as DOCSAGE_OVER_BUDGET says), or None."""
        if key is None:
            return None
        limits, now = self.limits(key), time.time()
        with self._lock:
            wait = retry_after(self.log.usage(key.id, now - WINDOW_S), limits, now)
            if wait is not None:
                metrics.RATE_LIMITED.inc()
                raise RateLimitError(f"rate limit reached; retry in {wait} s", wait)
            day = self.log.usage(key.id, day_start(now))
            reason = over_budget(day, self.log.usage(key.id, month_start(now)), limits)
            self.log.reserve(request_id, key.id, route, now)
        if reason is None:
            return None
        if self.settings.over_budget == "reject":
            self.log.release(request_id)
            raise RateLimitError(reason, int(day_start(now) + 86400 - now) + 1)
        metrics.DEGRADED.labels(self.settings.over_budget).inc()
        return reason
