"""Which folder feeds each collection, and which ingest holds it now (table ``ingest_sources``).

A collection has one source root. Ingesting another folder into it would delete every
document that is not in the new folder, so that takes an explicit ``replace``. The lock lives
in the database, next to the index, so the CLI and every service worker see the same one;
it names the holding process (pid and start time), so a holder that crashed or was killed
is recognised as gone and its lock taken over instead of blocking the collection forever.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from docsage.errors import ConflictError
from docsage.store.sqlite_db import SQLiteDatabase


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """The right to ingest ``root`` into ``collection`` until released."""

    collection: str
    root: str
    holder: str


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not
    mistaken for the holder; empty where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def _alive(holder: str) -> bool:
    pid_text, start, _ = holder.split(":", 2)
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not start or _start_time(pid) == start


class SourceClaims(SQLiteDatabase):
    label = "the ingest sources"

    def acquire(self, collection: str, root: Path, *, replace: bool, has_documents: bool) -> Claim:
        """Lock ``collection`` for an ingest of ``root``, or raise ``ConflictError`` saying why
        not: another live ingest holds it, or it is fed from another folder."""
        pid = os.getpid()
        claim = Claim(
            collection=collection,
            root=str(root),
            holder=f"{pid}:{_start_time(pid)}:{secrets.token_hex(6)}",
        )
        with self._write() as conn:
            row = conn.execute(
                "SELECT root, holder, held_since FROM ingest_sources WHERE collection = ?",
                (collection,),
            ).fetchone()
            if row is not None:
                _check(collection, claim.root, row, replace=replace, has_documents=has_documents)
            conn.execute(
                "INSERT INTO ingest_sources (collection, root, holder, held_since)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (collection) DO UPDATE SET"
                " holder = excluded.holder, held_since = excluded.held_since",
                (collection, claim.root, claim.holder, time.time()),
            )
        return claim

    def release(self, claim: Claim, *, completed: bool) -> None:
        """Unlock; a completed ingest makes its folder the collection's source root."""
        with self._write() as conn:
            conn.execute(
                "UPDATE ingest_sources SET holder = NULL, held_since = NULL,"
                " root = CASE WHEN ? THEN ? ELSE root END"
                " WHERE collection = ? AND holder = ?",
                (completed, claim.root, claim.collection, claim.holder),
            )

    def root(self, collection: str) -> str | None:
        rows = self._read("SELECT root FROM ingest_sources WHERE collection = ?", (collection,))
        return str(rows[0][0]) if rows else None


def _check(
    collection: str,
    root: str,
    row: tuple[str, str | None, float | None],
    *,
    replace: bool,
    has_documents: bool,
) -> None:
    current, holder, since = row
    if holder is not None and _alive(holder):
        started = time.strftime("%H:%M:%S", time.localtime(since or 0))
        raise ConflictError(
            f"collection {collection!r} is being ingested now (started {started}, process "
            f"{holder.split(':')[0]}); wait for that ingest to finish, then run this one"
        )
    if current != root and has_documents and not replace:
        raise ConflictError(
            f"collection {collection!r} is ingested from {current}, not {root}; ingesting "
            "this folder would remove the documents that are not in it. To make it the "
            'collection\'s source, pass --replace (API: "replace": true); to keep both, '
            "ingest it into another collection"
        )
