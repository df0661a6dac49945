"""Prometheus metrics. With several workers, ``docsage serve`` sets PROMETHEUS_MULTIPROC_DIR
before the workers start, and ``/metrics`` aggregates every worker's files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from docsage.errors import missing_extra

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        REGISTRY,
        CollectorRegistry,
        Counter,
        Gauge,
        Histogram,
        ProcessCollector,
        generate_latest,
        multiprocess,
    )
    from prometheus_client.core import Metric
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
FALLBACKS = Counter(
    "docsage_fallbacks", "Answers given by a later route after a model failed", ["reason"]
)
MODEL_ERRORS = Counter("docsage_model_errors", "Requests failed by a model error", ["reason"])
MODEL_CALL = Histogram(
    "docsage_model_call_seconds", "Latency of one model call", ["model"], buckets=_BUCKETS
)
IN_FLIGHT = Gauge(
    "docsage_in_flight_requests", "HTTP requests being served", multiprocess_mode="livesum"
)
DOCUMENTS = Gauge(
    "docsage_documents", "Documents per collection", ["collection"], multiprocess_mode="mostrecent"
)
CHUNKS = Gauge(
    "docsage_chunks", "Chunks per collection", ["collection"], multiprocess_mode="mostrecent"
)
RATE_LIMITED = Counter("docsage_rate_limited", "Requests refused by a rate limit")


_WORKER_FILE = re.compile(r"_(\d+)\.db$")


class WorkerProcesses:
    """``process_*`` metrics (memory, CPU, open files) of every live worker, labelled by
    ``pid``: in multiprocess mode prometheus_client reports none, since each worker's
    own process collector would only describe the worker that answered the scrape."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def pids(self) -> list[int]:
        found = {
            int(m.group(1)) for p in self.folder.glob("*.db") if (m := _WORKER_FILE.search(p.name))
        }
        return sorted(pid for pid in found if Path(f"/proc/{pid}").exists())

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Metric] = {}
        for pid in self.pids():
            collector = ProcessCollector(pid=lambda pid=pid: pid, registry=None)  # type: ignore[misc]
            for family in collector.collect():
                into = merged.setdefault(
                    family.name, Metric(family.name, family.documentation, family.type)
                )
                for sample in family.samples:
                    labels = {**sample.labels, "pid": str(pid)}
                    into.add_sample(sample.name, labels, sample.value)
        return list(merged.values())


def exposition() -> tuple[bytes, str]:
    """The metrics page and its content type, aggregated over workers when multiprocess."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(WorkerProcesses(folder))
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
