"""Ingest over HTTP against a real ``docsage serve``: each collection ingests only from its own
folder, a collection's source is replaced only on request, one ingest per collection at a
time, and ids of other keys' jobs and answers look exactly like missing ones."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from test_api_support import Server, cli, new_key, start, stop

TEAMB = "# Team B private notes\n\nThe vault passphrase is kept in the orange binder.\n"


@pytest.fixture(scope="module")
def ingest_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("ingest")
    home, root = base / "home", base / "root"
    for folder, text in (
        ("stdlib", "# Stdlib\n\nUse pathlib for paths.\n"),
        ("teamb", TEAMB),
        ("gamma", "# Gamma one\n\nThe first gamma guide.\n"),
        ("gamma/v2", "# Gamma two\n\nThe second gamma guide.\n"),
    ):
        (root / folder).mkdir(parents=True)
        (root / folder / "guide.md").write_text(text)
    (root / "stdlib" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    cli(home, "ingest", str(root / "stdlib"), "-c", "stdlib", "-q")
    cli(home, "ingest", str(root / "teamb"), "-c", "teamb", "-q")
    keys = {
        "stdlib": new_key(home, "std", "--scopes", "ask,ingest", "--collections", "stdlib"),
        "teamb": new_key(home, "tb", "--scopes", "ask,ingest", "--collections", "teamb"),
        "admin": new_key(home, "admin", "--scopes", "admin", "--collections", "*"),
    }
    limits = {"DOCSAGE_MAX_CHUNKS_PER_FILE": "40", "DOCSAGE_MAX_CHUNKS_PER_INGEST": "200"}
    url, process = start(home, {"DOCSAGE_INGEST_ROOT": str(root), **limits})
    yield Server(url=url, home=home, root=root, keys=keys, process=process)
    assert stop(process) == 0


def _finish(c: httpx.Client, job: dict[str, Any], end: str = "done") -> dict[str, Any]:
    state = job
    for _ in range(600):
        state = c.get(f"/v1/jobs/{job['id']}").json()
        if state["state"] in ("done", "failed", "cancelled"):
            break
        time.sleep(0.1)
    assert state["state"] == end, state
    return state


def _sources(server: Server, collection: str) -> set[str]:
    with sqlite3.connect(server.home / "index.sqlite") as conn:
        rows = conn.execute("SELECT source FROM documents WHERE collection = ?", (collection,))
        return {r[0] for r in rows}


def test_a_key_cannot_ingest_another_collections_folder(ingest_server: Server) -> None:
    with ingest_server.client("stdlib") as c:
        for path in ("teamb", "stdlib/../teamb", "nothere", "."):
            response = c.post("/v1/ingest", json={"path": path, "collection": "stdlib"})
            assert response.status_code == 403, path
            assert "its own folder, stdlib/" in response.json()["error"]["message"]
        found = c.post("/v1/search", json={"query": "vault passphrase", "collection": "stdlib"})
        assert all("orange binder" not in h["text"] for h in found.json()["hits"])
        job = c.post("/v1/ingest", json={"path": "stdlib", "collection": "stdlib"})
        assert job.status_code == 202, job.text
        result = _finish(c, job.json())["result"]
    assert _sources(ingest_server, "stdlib") == {"guide.md"}
    # The job lists what it skipped and why, as the CLI does.
    assert result["skipped"] == [{"source": "logo.png", "reason": "unsupported file type"}]


def test_another_source_folder_is_refused_unless_replace(ingest_server: Server) -> None:
    with ingest_server.client("admin") as c:
        _finish(c, c.post("/v1/ingest", json={"path": "gamma", "collection": "gamma"}).json())
        assert _sources(ingest_server, "gamma") == {"guide.md", "v2/guide.md"}
        refused = c.post("/v1/ingest", json={"path": "gamma/v2", "collection": "gamma"})
        assert refused.status_code == 409
        message = refused.json()["error"]["message"]
        assert "would remove the documents" in message and '"replace": true' in message
        assert _sources(ingest_server, "gamma") == {"guide.md", "v2/guide.md"}
        body = {"path": "gamma/v2", "collection": "gamma", "replace": True}
        _finish(c, c.post("/v1/ingest", json=body).json())
        assert _sources(ingest_server, "gamma") == {"guide.md"}
        # v2 is now the source: re-ingesting it needs no flag, the old folder does.
        again = {"path": "gamma/v2", "collection": "gamma"}
        _finish(c, c.post("/v1/ingest", json=again).json())
        old = c.post("/v1/ingest", json={"path": "gamma", "collection": "gamma"})
        assert old.status_code == 409


def test_a_second_ingest_of_a_running_collection_is_refused(ingest_server: Server) -> None:
    folder = ingest_server.root / "stdlib" / "many"
    folder.mkdir()
    for i in range(150):
        (folder / f"page{i}.md").write_text(f"# Page {i}\n\nTopic number {i} explained.\n")
    with ingest_server.client("stdlib") as c:
        first = c.post("/v1/ingest", json={"path": "stdlib", "collection": "stdlib"})
        assert first.status_code == 202
        second = c.post("/v1/ingest", json={"path": "stdlib", "collection": "stdlib"})
        assert second.status_code == 409, second.text
        assert "is being ingested now" in second.json()["error"]["message"]
        _finish(c, first.json())
        third = c.post("/v1/ingest", json={"path": "stdlib", "collection": "stdlib"})
        assert third.status_code == 202
        _finish(c, third.json())
    assert len(_sources(ingest_server, "stdlib")) == 151


def test_odd_files_are_decoded_or_skipped_with_a_reason(ingest_server: Server) -> None:
    folder = ingest_server.root / "teamb" / "odd"
    folder.mkdir()
    cp1252 = "# Pricing\n\nIt costs 5 \u20ac \u2014 \u201cquoted\u201d, na\xefve caf\xe9.\n"
    (folder / "pricing.md").write_bytes(cp1252.encode("cp1252"))
    (folder / "wide.txt").write_bytes("UTF-16 notes: gr\xfc\xdfe.\n".encode("utf-16"))
    deep = "<html><body>" + "<div>" * 5000 + "<p>deep</p>" + "</div>" * 5000 + "</body></html>"
    (folder / "deep.html").write_text(deep)
    with ingest_server.client("teamb") as c:
        job = c.post("/v1/ingest", json={"path": "teamb", "collection": "teamb"}).json()
        result = _finish(c, job)["result"]
        hits = c.post("/v1/search", json={"query": "costs quoted", "collection": "teamb"})
    assert result["notes"] == [
        {"source": "odd/pricing.md", "note": "decoded as cp1252"},
        {"source": "odd/wide.txt", "note": "decoded as utf-16"},
    ]
    (reason,) = [s["reason"] for s in result["skipped"] if s["source"] == "odd/deep.html"]
    assert reason.startswith("nesting too deep")
    texts = [h["text"] for h in hits.json()["hits"]]
    assert any("5 \u20ac \u2014 \u201cquoted\u201d, na\xefve caf\xe9" in t for t in texts)
    shutil.rmtree(folder)


def _headings(n: int, word: str) -> str:
    return "".join(f"## {word} {i}\n\nHow {word} {i} works, in a sentence.\n\n" for i in range(n))


def test_chunks_are_bounded_per_file_and_per_ingest(ingest_server: Server) -> None:
    folder = ingest_server.root / "teamb" / "big"
    folder.mkdir()
    (folder / "big.md").write_text(_headings(100, "step"))
    for i in range(1, 7):
        (folder / f"p{i}.md").write_text(_headings(40, f"part{i}"))
    with ingest_server.client("teamb") as c:
        job = c.post("/v1/ingest", json={"path": "teamb", "collection": "teamb"}).json()
        result = _finish(c, job)["result"]
    assert {
        "source": "big/big.md",
        "note": "cut to its first 40 of 100 chunks (DOCSAGE_MAX_CHUNKS_PER_FILE)",
    } in result["notes"]
    assert result["chunks_written"] == 200
    skipped = {s["source"]: s["reason"] for s in result["skipped"]}
    over = "over the ingest's chunk limit (DOCSAGE_MAX_CHUNKS_PER_INGEST=200)"
    assert skipped["big/p5.md"] == skipped["big/p6.md"] == over
    # The CLI says the same, and a cut file is parsed again under the limits then in force.
    out = cli(
        ingest_server.home,
        "ingest",
        str(ingest_server.root / "teamb"),
        "-c",
        "teamb",
        "-q",
        env={"DOCSAGE_MAX_CHUNKS_PER_FILE": "10"},
    )
    assert "big/big.md: cut to its first 10 of 100 chunks" in out
    shutil.rmtree(folder)


def test_a_running_job_is_cancelled_and_the_collection_freed(ingest_server: Server) -> None:
    folder = ingest_server.root / "teamb" / "slow"
    folder.mkdir()
    for i in range(180):
        (folder / f"page{i}.md").write_text(f"# Slow {i}\n\nA page numbered {i}.\n")
    body = {"path": "teamb", "collection": "teamb"}
    with ingest_server.client("teamb") as c:
        job = c.post("/v1/ingest", json=body).json()
        with ingest_server.client("stdlib") as other:  # another key cannot cancel it
            assert other.delete(f"/v1/jobs/{job['id']}").status_code == 404
        cancelled = c.delete(f"/v1/jobs/{job['id']}")  # either worker may take it
        assert cancelled.status_code == 202
        ended = _finish(c, job, end="cancelled")
        assert "cancelled" in ended["error"] and ended["result"] is None
        again = c.post("/v1/ingest", json=body)  # the lock was released
        assert again.status_code == 202, again.text
        assert _finish(c, again.json())["result"]["vectors_missing"] == 0
        assert c.delete(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"
    assert len(_sources(ingest_server, "teamb")) == 181
    shutil.rmtree(folder)


def _set_holder(server: Server, collection: str, holder: str) -> None:
    with sqlite3.connect(server.home / "index.sqlite") as conn:
        conn.execute(
            "UPDATE ingest_sources SET holder = ?, held_since = ? WHERE collection = ?",
            (holder, time.time(), collection),
        )


def _own_holder() -> str:
    stat = Path(f"/proc/{os.getpid()}/stat").read_text()
    return f"{os.getpid()}:{stat.rpartition(')')[2].split()[19]}:test"


def test_the_lock_is_shared_with_the_cli_and_a_dead_holder_is_taken_over(
    ingest_server: Server,
) -> None:
    home, teamb = ingest_server.home, str(ingest_server.root / "teamb")
    _set_holder(ingest_server, "teamb", _own_holder())  # a live process holds it
    with ingest_server.client("teamb") as c:
        response = c.post("/v1/ingest", json={"path": "teamb", "collection": "teamb"})
        assert response.status_code == 409
    with pytest.raises(AssertionError, match="is being ingested now"):
        cli(home, "ingest", teamb, "-c", "teamb", "-q")
    _set_holder(ingest_server, "teamb", "4194303::crashed")  # that holder died mid-ingest
    cli(home, "ingest", teamb, "-c", "teamb", "-q")
    with pytest.raises(AssertionError, match="--replace"):
        cli(home, "ingest", str(ingest_server.root / "stdlib"), "-c", "teamb", "-q")
    assert _sources(ingest_server, "teamb") == {"guide.md"}


def test_foreign_ids_look_exactly_like_missing_ones(ingest_server: Server) -> None:
    with ingest_server.client("teamb") as c:
        job = c.post("/v1/ingest", json={"path": "teamb", "collection": "teamb"}).json()
        _finish(c, job)
        answer = c.post("/v1/ask", json={"question": "vault?", "collection": "teamb"}).json()
    made_up_job = "job_" + "0" * 16
    made_up_answer = "req_" + "0" * 16
    with ingest_server.client("stdlib") as c:
        foreign = c.get(f"/v1/jobs/{job['id']}")
        missing = c.get(f"/v1/jobs/{made_up_job}")
        assert foreign.status_code == missing.status_code == 404
        assert foreign.text.replace(job["id"], made_up_job) == missing.text
        bodies = [{"answer_id": i, "rating": "up"} for i in (answer["id"], made_up_answer)]
        foreign, missing = (c.post("/v1/feedback", json=b) for b in bodies)
        assert foreign.status_code == missing.status_code == 404
        assert foreign.text.replace(answer["id"], made_up_answer) == missing.text
