"""The stores the service opens together (``docsage.app.open_service_stores``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from docsage.ports.jobs import JobStore
from docsage.ports.keys import KeyStore
from docsage.ports.requests import RequestStore


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceStores:
    keys: KeyStore
    requests: RequestStore
    jobs: JobStore

    def close(self) -> None:
        """The request log and jobs first: their pending writes are committed on close."""
        self.requests.close()
        self.jobs.close()
        self.keys.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
