"""docsage: cited answers from a project's own docs and code, offline by default.

The public API is small: ``Docsage`` (ingest, search, ask), ``Settings``, and the data types
it returns. The CLI and the HTTP API call nothing else.
"""

from docsage.app import Docsage
from docsage.errors import ConfigError, DocsageError, NotFoundError, RunError, UsageError
from docsage.retrieve import SearchResult
from docsage.settings import Settings
from docsage.types import Answer, Chunk, Citation, Hit, IngestReport

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
