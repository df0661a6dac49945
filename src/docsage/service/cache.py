"""Per-worker LRU caches: answers and search results, keyed on the normalised question, the
collection and its index version, so a new ingest (a new version) invalidates them.

A search made before every vector was embedded (``dense_available`` false while an embedder is
configured) is not cached: its results change as vectors arrive without a version change.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import replace
from typing import Generic, TypeVar

from docsage.app import Docsage
from docsage.retrieve import Retriever, SearchOptions, SearchResult
from docsage.settings import Settings

V = TypeVar("V")
_SPACE = re.compile(r"\s+")


def normalise(question: str) -> str:
    """Case-folded, whitespace collapsed, trailing punctuation dropped."""
    return _SPACE.sub(" ", question.casefold()).strip().rstrip("?!. ")


class LRUCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class CachedRetriever(Retriever):
    """A ``Retriever`` that remembers results per (query, collection, options, version)."""

    def __init__(self, inner: Retriever, cache: LRUCache[SearchResult]) -> None:
        super().__init__(
            inner.store, inner.embedder, weights=inner.weights, reranker=inner.reranker
        )
        self.cache = cache
        self.last_hit = threading.local()

    def search(self, query: str, collection: str, options: SearchOptions) -> SearchResult:
        started = time.perf_counter()
        key = (normalise(query), collection, options, self.store.index_version(collection))
        cached = self.cache.get(key)
        self.last_hit.value = cached is not None
        if cached is not None:  # a hit reports its own (lookup) time, not the original run's
            took = (time.perf_counter() - started) * 1000
            return replace(cached, retrieve_ms=took, rerank_ms=0.0)
        result = super().search(query, collection, options)
        if result.dense_available or self.embedder is None:
            self.cache.put(key, result)
        return result


def cached_docsage(settings: Settings, *, retrieval_cache_size: int = 0) -> Docsage:
    """``Docsage`` whose retriever caches search results (per worker)."""
    cache: LRUCache[SearchResult] = LRUCache(retrieval_cache_size)
    return Docsage(settings, wrap_retriever=lambda inner: CachedRetriever(inner, cache))
