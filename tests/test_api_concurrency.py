"""Ingest over the API while queries run against the same server: no errors, and readers see
the old or the new index, never a mix."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from test_api_support import Server

# Starts a real docsage serve process with the ONNX embedder.
pytestmark = pytest.mark.slow


PAGE = "# Page {i}\n\n## Topic {i}\n\nThe widget number {i} is tuned with tune_widget_{i}.\n"


def test_ingest_while_querying(server: Server) -> None:
    big = server.root / "big"
    big.mkdir()
    for i in range(60):
        (big / f"page{i:02d}.md").write_text(PAGE.format(i=i))
    job = server.post("admin", "/v1/ingest", {"path": "big", "collection": "big"}).json()
    stop = threading.Event()
    statuses: list[int] = []
    big_counts: set[int] = set()

    def query(n: int) -> None:
        with server.client("admin") as c:
            while not stop.is_set():
                r = c.post("/v1/search", json={"query": "retries", "collection": "alpha"})
                statuses.append(r.status_code)
                b = c.post(
                    "/v1/search",
                    json={
                        "query": "widget tuned",
                        "collection": "big",
                        "k": 100,
                        "mode": "lexical",
                    },
                )
                statuses.append(200 if b.status_code in (200, 404) else b.status_code)
                if b.status_code == 200:
                    big_counts.add(len(b.json()["hits"]))

    with ThreadPoolExecutor(4) as pool:
        for n in range(4):
            pool.submit(query, n)
        with server.client("admin") as c:
            for _ in range(600):
                state = c.get(f"/v1/jobs/{job['id']}").json()
                if state["state"] in ("done", "failed"):
                    break
                time.sleep(0.1)
        time.sleep(0.3)
        stop.set()
    assert state["state"] == "done", state
    assert state["result"]["files_ingested"] == 60
    assert statuses and set(statuses) == {200}
    assert big_counts <= {0, 60}, "a reader saw a partly written index"
