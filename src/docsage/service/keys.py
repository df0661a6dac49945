"""API keys: shown once, stored as SHA-256 hashes, with scopes and readable collections.

A key's ``collections`` is the list of collections it may read; ``("*",)`` means all. Scopes:
``ask`` (ask, search, chat, feedback, collections), ``ingest`` (start ingest jobs) and
``admin`` (everything, every collection).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from docsage.errors import NotFoundError, UsageError
from docsage.service.db import SideStore

SCOPES = ("ask", "ingest", "admin")
ALL = "*"
SECRET_PREFIX = "dsk_"


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    collections: tuple[str, ...]
    limits: dict[str, float] = field(default_factory=dict)
    created_at: float = 0.0
    revoked_at: float | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def can_read(self, collection: str) -> bool:
        return ALL in self.collections or "admin" in self.scopes or collection in self.collections


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_list(raw: str) -> tuple[str, ...]:
    """``"a, b,,c"`` -> ``("a", "b", "c")``."""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _check(scopes: Sequence[str], collections: Sequence[str]) -> None:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UsageError(f"unknown or missing scopes {unknown}; use some of {', '.join(SCOPES)}")
    if not collections:
        raise UsageError("give the collections the key may read (--collections a,b or '*')")


_COLUMNS = "id, name, prefix, scopes, collections, limits, created_at, revoked_at"


def _row_to_key(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=str(row[0]),
        name=str(row[1]),
        prefix=str(row[2]),
        scopes=tuple(json.loads(row[3])),
        collections=tuple(json.loads(row[4])),
        limits={str(k): float(v) for k, v in json.loads(row[5]).items()},
        created_at=float(row[6]),
        revoked_at=None if row[7] is None else float(row[7]),
    )


class KeyStore(SideStore):
    def create(
        self,
        name: str,
        scopes: Sequence[str],
        collections: Sequence[str],
        limits: dict[str, float] | None = None,
    ) -> tuple[ApiKey, str]:
        """The new key and its secret; the secret is not stored and cannot be shown again."""
        _check(scopes, collections)
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id="key_" + secrets.token_hex(6),
            name=name,
            prefix=secret[:10],
            scopes=tuple(scopes),
            collections=tuple(collections),
            limits=dict(limits or {}),
            created_at=time.time(),
        )
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO api_keys ({_COLUMNS}, hash) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    key.id,
                    key.name,
                    key.prefix,
                    json.dumps(key.scopes),
                    json.dumps(key.collections),
                    json.dumps(key.limits),
                    key.created_at,
                    hash_secret(secret),
                ),
            )
        return key, secret

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        rows = self._read(f"SELECT {_COLUMNS} FROM api_keys {where} ORDER BY created_at")
        return [_row_to_key(r) for r in rows]

    def revoke(self, ref: str) -> ApiKey:
        """Revoke by id, or by name when exactly one live key has it."""
        live = [k for k in self.list() if ref in (k.id, k.name)]
        if not live:
            raise NotFoundError(f"no live key {ref!r}; list keys with: docsage keys list")
        if len(live) > 1:
            raise UsageError(f"{len(live)} keys are named {ref!r}; revoke one by its id")
        with self._write() as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ?", (time.time(), live[0].id)
            )
        return live[0]

    def authenticate(self, secret: str) -> ApiKey | None:
        rows = self._read(
            f"SELECT {_COLUMNS} FROM api_keys WHERE hash = ? AND revoked_at IS NULL",
            (hash_secret(secret),),
        )
        return _row_to_key(rows[0]) if rows else None
