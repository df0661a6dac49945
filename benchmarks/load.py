"""Bounded load test of ``docsage serve`` on loopback: requests/s and p50/p99 latency for
/v1/search and /v1/ask at several concurrencies, with and without the caches, and while an
ingest runs. The server is a second process; this process generates a fixed number of
requests per cell from a thread pool and counts every non-200 as an error.

    python benchmarks/load.py --home ~/.docsage --collection stdlib \
        --ingest-root /tmp/ingest --ingest-path copy_of_docs --requests 200
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import Table, write_section

DOCSAGE = Path(sys.executable).parent / "docsage"
QUESTIONS = (
    "How do I join path components?",
    "How can I sort a list of dicts by a key?",
    "How do I parse JSON from a string?",
    "What does str.partition return?",
    "How do I read a CSV file?",
    "How do I run a shell command and capture its output?",
    "How do I count how many times each item occurs in a list?",
    "How do I copy a file?",
    "How do I format a date as ISO 8601?",
    "How do I make a temporary directory?",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_key(home: Path) -> str:
    out = subprocess.run(
        [
            str(DOCSAGE),
            "keys",
            "create",
            "--name",
            "load-benchmark",
            "--scopes",
            "admin",
            "--collections",
            "*",
            "--home",
            str(home),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start_server(
    home: Path, workers: int, cache: bool, ingest_root: str
) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    size = "4096" if cache else "0"
    env |= {
        "DOCSAGE_HOME": str(home),
        "DOCSAGE_ANSWER_CACHE_SIZE": size,
        "DOCSAGE_RETRIEVAL_CACHE_SIZE": size,
        "DOCSAGE_INGEST_ROOT": ingest_root,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [
            str(DOCSAGE),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/readyz", timeout=30).status_code == 200:
                return url, proc
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("docsage serve did not become ready")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)


def run_cell(
    url: str, key: str, route: str, collection: str, n: int, conc: int
) -> dict[str, float]:
    """``n`` requests from ``conc`` threads; returns rps, p50/p99 ms and the error count."""
    headers = {"Authorization": f"Bearer {key}"}
    field = "query" if route == "search" else "question"
    clients = [httpx.Client(base_url=url, headers=headers, timeout=120) for _ in range(conc)]

    def one(i: int) -> tuple[float, bool]:
        body = {field: QUESTIONS[i % len(QUESTIONS)], "collection": collection}
        started = time.perf_counter()
        try:
            ok = clients[i % conc].post(f"/v1/{route}", json=body).status_code == 200
        except httpx.HTTPError:
            ok = False
        return (time.perf_counter() - started) * 1000, ok

    started = time.perf_counter()
    with ThreadPoolExecutor(conc) as pool:
        results = list(pool.map(one, range(n)))
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    ms = sorted(r[0] for r in results)
    return {
        "rps": n / wall,
        "p50": statistics.median(ms),
        "p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))],
        "errors": sum(1 for r in results if not r[1]),
    }


def start_ingest(url: str, key: str, path: str) -> str:
    body = {"path": path, "collection": "load-ingest"}
    r = httpx.post(url + "/v1/ingest", json=body, headers={"Authorization": f"Bearer {key}"})
    r.raise_for_status()
    return str(r.json()["id"])


def job_state(url: str, key: str, job_id: str) -> str:
    r = httpx.get(f"{url}/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"})
    return str(r.json()["state"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="Index folder (ingested).")
    parser.add_argument("--collection", required=True)
    parser.add_argument("--requests", type=int, default=200, help="Requests per cell.")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ingest-root", default="", help="DOCSAGE_INGEST_ROOT for the run.")
    parser.add_argument("--ingest-path", default="", help="Folder under it to ingest meanwhile.")
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"))
    args = parser.parse_args()
    key = admin_key(args.home)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    table = Table(
        f"Load: docsage serve, {args.workers} workers, {args.requests} requests per row, "
        f"collection {args.collection!r} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs)",
        ["route", "cache", "during ingest", "concurrency", "req/s", "p50 ms", "p99 ms", "errors"],
    )
    scenarios = [(True, False), (False, False)]
    if args.ingest_path:
        scenarios.append((False, True))
    for cache, ingesting in scenarios:
        url, proc = start_server(args.home, args.workers, cache, args.ingest_root)
        try:
            job = start_ingest(url, key, args.ingest_path) if ingesting else ""
            for route in ("search", "ask"):
                for conc in concurrencies:
                    r = run_cell(url, key, route, args.collection, args.requests, conc)
                    busy = "yes" if ingesting and job_state(url, key, job) == "running" else "no"
                    cells = (f"{r['rps']:.1f}", f"{r['p50']:.1f}", f"{r['p99']:.1f}")
                    table.add(
                        route,
                        "on" if cache else "off",
                        busy,
                        str(conc),
                        *cells,
                        str(int(r["errors"])),
                    )
                    print(table.rows[-1], flush=True)
        finally:
            stop_server(proc)
    note = (
        "With the cache on, repeated questions (10 distinct, cycled) are served from each "
        "worker's answer/retrieval cache after the first miss. 'during ingest' says whether "
        "the ingest job was still running when the row finished."
    )
    write_section(args.out, "load", table.markdown() + "\n\n" + note)
    print(table.markdown())


if __name__ == "__main__":
    main()
