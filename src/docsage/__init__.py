"""docsage: cited answers from a project's own docs and code, offline by default.

The public API is small: ``Docsage`` (ingest, search, ask), ``Settings``, and the data types
it returns. The CLI and the HTTP API call nothing else.

Names are imported on first use (PEP 562), so importing a leaf module such as
``docsage.types`` or ``docsage.text`` does not load the whole package.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docsage.app import Docsage
    from docsage.errors import ConfigError, DocsageError, NotFoundError, RunError, UsageError
    from docsage.retrieve import SearchResult
    from docsage.settings import Settings
    from docsage.types import Answer, Chunk, Citation, Hit, IngestReport

_HOMES = {
    "Docsage": "docsage.app",
    "ConfigError": "docsage.errors",
    "DocsageError": "docsage.errors",
    "NotFoundError": "docsage.errors",
    "RunError": "docsage.errors",
    "UsageError": "docsage.errors",
    "SearchResult": "docsage.retrieve",
    "Settings": "docsage.settings",
    "Answer": "docsage.types",
    "Chunk": "docsage.types",
    "Citation": "docsage.types",
    "Hit": "docsage.types",
    "IngestReport": "docsage.types",
}
__all__ = [
    "Answer",
    "Chunk",
    "Citation",
    "ConfigError",
    "Docsage",
    "DocsageError",
    "Hit",
    "IngestReport",
    "NotFoundError",
    "RunError",
    "SearchResult",
    "Settings",
    "UsageError",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'docsage' has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
