"""The composition root: reads settings, picks adapters, and exposes the public operations.

Front ends (CLI, API) call only this. Embedding with an explicit ``store`` / ``embedder``
is how tests and plugin authors swap adapters without touching settings.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from docsage.answer.extractive import ExtractiveAnswerer, load_calibration
from docsage.errors import NotFoundError
from docsage.ingest.pipeline import IngestOptions, ProgressFn, embed_missing, ingest_folder
from docsage.models.registry import make_embedder
from docsage.ports import CollectionInfo, Embedder, Store
from docsage.rerank import IdentifierReranker
from docsage.retrieve import FusionWeights, Mode, Retriever, SearchOptions, SearchResult
from docsage.settings import Settings
from docsage.store.sqlite import SQLiteStore
from docsage.types import Answer, IngestReport

_UNSET: Any = object()


def _quiet(stage: str, done: int, total: int) -> None:
    return None


class Docsage:
    """Ingest, search and ask over one index.

    >>> ds = Docsage(Settings.from_env(home=Path("/tmp/ds")))  # doctest: +SKIP
    >>> ds.ingest("docs/", collection="mydocs")  # doctest: +SKIP
    >>> ds.ask("how do I configure retries?", collection="mydocs").text  # doctest: +SKIP
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: Store | None = None,
        embedder: Embedder | None = _UNSET,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.store: Store = store or SQLiteStore(self.settings.index_path)
        self._embedder = embedder
        self._retriever: Retriever | None = None

    @property
    def embedder(self) -> Embedder | None:
        if self._embedder is _UNSET:
            self._embedder = make_embedder(
                self.settings.embedder,
                {
                    "threads": self.settings.embed_threads,
                    "base_url": self.settings.embeddings_url,
                    "api_key": self.settings.embeddings_api_key,
                },
            )
        embedder: Embedder | None = self._embedder
        return embedder

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            self._retriever = Retriever(
                self.store,
                self.embedder,
                weights=FusionWeights(
                    lexical=self.settings.lexical_weight,
                    dense=self.settings.dense_weight,
                    link_prior=self.settings.link_prior,
                    api_prior=self.settings.api_prior,
                ),
                reranker=IdentifierReranker() if self.settings.rerank else None,
            )
        return self._retriever

    def _collection(self, name: str | None, *, must_exist: bool = True) -> str:
        name = name or self.settings.collection
        if must_exist and self.store.index_version(name) == 0:
            known = ", ".join(c.name for c in self.store.collections()) or "none yet"
            raise NotFoundError(
                f"no collection named {name!r} (known: {known}); "
                f"create it with: docsage ingest PATH --collection {name}"
            )
        return name

    def ingest(
        self,
        path: str | Path,
        *,
        collection: str | None = None,
        ignore: tuple[str, ...] = (),
        use_default_ignores: bool = True,
        embed: bool = True,
        embed_seconds: float | None = None,
        progress: ProgressFn = _quiet,
    ) -> IngestReport:
        options = IngestOptions(
            ignore=ignore,
            use_default_ignores=use_default_ignores,
            max_bytes=self.settings.max_file_bytes,
            embed_seconds=embed_seconds,
        )
        name = self._collection(collection, must_exist=False)
        report = ingest_folder(
            self.store,
            Path(path).expanduser(),
            name,
            options=options,
            embedder=self.embedder if embed else None,
            progress=progress,
        )
        total = next((c.chunks for c in self.store.collections() if c.name == name), 0)
        missing = report.vectors_missing
        if not embed and self.embedder is not None:
            missing = len(self.store.chunks_missing_vectors(name, self.embedder.name))
        return replace(report, chunks_total=total, vectors_missing=missing)

    def embed_pending(
        self, *, collection: str | None = None, progress: ProgressFn = _quiet
    ) -> tuple[int, int]:
        """Embed chunks still without vectors (after an interrupted or --no-embed ingest)."""
        embedder = self.embedder
        if embedder is None:
            return (0, 0)
        return embed_missing(self.store, embedder, self._collection(collection), progress=progress)

    def search(
        self,
        query: str,
        *,
        collection: str | None = None,
        k: int = 10,
        mode: Mode = "hybrid",
        path_prefix: str = "",
    ) -> SearchResult:
        options = SearchOptions(k=k, mode=mode, path_prefix=path_prefix, candidates=max(100, k))
        return self.retriever.search(query, self._collection(collection), options)

    def ask(self, question: str, *, collection: str | None = None, path_prefix: str = "") -> Answer:
        name = self._collection(collection)
        answerer = ExtractiveAnswerer(
            self.retriever, abstain_below=self._abstain_threshold(), embedder=self.embedder
        )
        return answerer.ask(question, name, path_prefix=path_prefix)

    def _abstain_threshold(self) -> float:
        if self.settings.abstain_below >= 0:
            return self.settings.abstain_below
        return load_calibration().threshold

    def collections(self) -> list[CollectionInfo]:
        return self.store.collections()

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Docsage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
