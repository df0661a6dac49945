"""The interfaces features and the service are written against. Adapters live in ``store/``
and ``models/``; each port's contract suite is in ``docsage.testing``.

- index: ``IndexReader`` (search, read), ``IndexWriter`` (ingest), ``Store`` (both)
- models: ``Embedder``, ``Reranker``; chat: ``ChatModel`` (its ``ChatRequest`` / ``ChatResponse``),
  ``Pricer``, ``Answerer``
- eval runs: ``RunStore``
- service: ``KeyStore``, ``RequestLog`` / ``RequestHistory`` (``RequestStore``), ``JobStore``,
  opened together as ``ServiceStores``
"""

from docsage.ports.chat import (
    Answerer,
    ChatModel,
    ChatRequest,
    ChatResponse,
    Message,
    OnToken,
    Pricer,
    ToolCall,
    ToolSpec,
)
from docsage.ports.index import (
    CollectionInfo,
    FileUpdate,
    IndexReader,
    IndexWriter,
    ScoredChunk,
    Store,
    Vector,
)
from docsage.ports.jobs import Job, JobState, JobStore
from docsage.ports.keys import ALL, SCOPES, ApiKey, KeyStore, check_key_spec
from docsage.ports.models import Embedder, EmbedderConfig, Reranker
from docsage.ports.requests import (
    Feedback,
    KeyUsage,
    RequestHistory,
    RequestLog,
    RequestRecord,
    RequestStore,
)
from docsage.ports.runs import Record, RunStore, StoredRun
from docsage.ports.service import ServiceStores

__all__ = [
    "ALL",
    "SCOPES",
    "Answerer",
    "ApiKey",
    "ChatModel",
    "ChatRequest",
    "ChatResponse",
    "CollectionInfo",
    "Embedder",
    "EmbedderConfig",
    "Feedback",
    "FileUpdate",
    "IndexReader",
    "IndexWriter",
    "Job",
    "JobState",
    "JobStore",
    "KeyStore",
    "KeyUsage",
    "Message",
    "OnToken",
    "Pricer",
    "Record",
    "RequestHistory",
    "RequestLog",
    "RequestRecord",
    "RequestStore",
    "Reranker",
    "RunStore",
    "ScoredChunk",
    "ServiceStores",
    "Store",
    "StoredRun",
    "ToolCall",
    "ToolSpec",
    "Vector",
    "check_key_spec",
]
