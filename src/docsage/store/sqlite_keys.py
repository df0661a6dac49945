"""API keys in the index file (table ``api_keys`` of migration ``0003_service``): the
``KeyStore`` port's default adapter. Secrets are kept as SHA-256 hashes only."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

from docsage.errors import NotFoundError, UsageError
from docsage.ports.keys import ApiKey, LimitOverrides, check_key_spec
from docsage.store.sqlite_db import SQLiteDatabase

SECRET_PREFIX = "dsk_"
_COLUMNS = "id, name, prefix, scopes, collections, limits, created_at, revoked_at"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _row_to_key(row: Sequence[Any]) -> ApiKey:
    return ApiKey(
        id=str(row[0]),
        name=str(row[1]),
        prefix=str(row[2]),
        scopes=tuple(json.loads(row[3])),
        collections=tuple(json.loads(row[4])),
        limits={str(k): _limit(v) for k, v in json.loads(row[5]).items()},
        created_at=float(row[6]),
        revoked_at=None if row[7] is None else float(row[7]),
    )


class SQLiteKeyStore(SQLiteDatabase):
    label = "the API keys"

    def create(
        self,
        name: str,
        scopes: Sequence[str],
        collections: Sequence[str],
        limits: LimitOverrides | None = None,
    ) -> tuple[ApiKey, str]:
        check_key_spec(scopes, collections)
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


def _limit(stored: float | None) -> float | None:
    """A stored override: null is "exempt"; keys made before limits took None stored 0 for
    that, so 0 reads as exempt too (a limit of 0 requests would only lock the key out)."""
    return None if stored is None or stored == 0 else float(stored)
