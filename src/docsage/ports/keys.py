"""The API-key port and the key it returns.

A key's ``collections`` is the list of collections it may read; ``("*",)`` means all. Scopes:
``ask`` (ask, search, chat, feedback, collections), ``ingest`` (start ingest jobs) and
``admin`` (everything, every collection). Secrets are shown once and never stored: an
adapter keeps a one-way hash (contract: ``docsage.testing.KeyStoreContract``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from docsage.errors import UsageError

SCOPES = ("ask", "ingest", "admin")
LimitOverrides = dict[str, float | None]
"""A key's own limits by name (``rpm``...); None exempts the key from the default."""
ALL = "*"


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    """The start of the secret, enough to tell keys apart in a list."""
    scopes: tuple[str, ...]
    collections: tuple[str, ...]
    limits: LimitOverrides = field(default_factory=dict)
    created_at: float = 0.0
    revoked_at: float | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def can_read(self, collection: str) -> bool:
        return ALL in self.collections or "admin" in self.scopes or collection in self.collections


def check_key_spec(scopes: Sequence[str], collections: Sequence[str]) -> None:
    """The rule every adapter's ``create`` applies: known scopes, at least one of them, and
    at least one collection."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UsageError(f"unknown or missing scopes {unknown}; use some of {', '.join(SCOPES)}")
    if not collections:
        raise UsageError("give the collections the key may read (--collections a,b or '*')")


class KeyStore(Protocol):
    def create(
        self,
        name: str,
        scopes: Sequence[str],
        collections: Sequence[str],
        limits: LimitOverrides | None = None,
    ) -> tuple[ApiKey, str]:
        """The new key and its secret; the secret is not stored and cannot be shown again.
        UsageError for a key ``check_key_spec`` refuses."""
        ...

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        """Oldest first."""
        ...

    def revoke(self, ref: str) -> ApiKey:
        """Revoke by id, or by name when exactly one live key has it (NotFoundError if none,
        UsageError if several)."""
        ...

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret; None for an unknown or revoked one."""
        ...

    def close(self) -> None: ...
