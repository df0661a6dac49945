"""What uvicorn imports in each worker: ``app()`` builds the app from ``DOCSAGE_*``.

Each worker process opens its own ``Docsage`` (own SQLite connections, WAL mode), so several
workers share one index file safely.
"""

from __future__ import annotations

from fastapi import FastAPI

from docsage.api.app import create_app
from docsage.settings import Settings


def app() -> FastAPI:
    return create_app(Settings.from_env())
