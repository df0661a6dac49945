"""Prometheus metrics. With several workers, ``docsage serve`` sets PROMETHEUS_MULTIPROC_DIR
before the workers start, and ``/metrics`` aggregates every worker's files."""

from __future__ import annotations

import os

from docsage.errors import missing_extra

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        Counter,
        Histogram,
        generate_latest,
        multiprocess,
    )
except ImportError as exc:  # pragma: no cover - the serve extra is missing
    raise missing_extra("prometheus-client", 'pip install "docsage[serve]"') from exc

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

REQUESTS = Counter("docsage_requests", "HTTP requests", ["route", "status"])
LATENCY = Histogram(
    "docsage_request_seconds", "HTTP request latency", ["route", "status"], buckets=_BUCKETS
)
STAGE = Histogram("docsage_stage_seconds", "Latency per answer stage", ["stage"], buckets=_BUCKETS)
TOKENS = Counter("docsage_tokens", "Model tokens", ["model", "direction"])
COST = Counter("docsage_cost_usd", "Model cost in USD", ["model"])
CACHE = Counter("docsage_cache_lookups", "Cache lookups", ["cache", "result"])
CACHE_SAVED = Counter(
    "docsage_cache_saved_seconds", "Compute time that cache hits saved", ["cache"]
)
ANSWERS = Counter("docsage_answers", "Answers given", ["abstained"])
FEEDBACK = Counter("docsage_feedback", "Feedback on answers", ["rating"])
DEGRADED = Counter("docsage_degraded", "Requests served degraded (over budget)", ["mode"])
RATE_LIMITED = Counter("docsage_rate_limited", "Requests refused by a rate limit")


def exposition() -> tuple[bytes, str]:
    """The metrics page and its content type, aggregated over workers when multiprocess."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
