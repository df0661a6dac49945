"""The composition root: reads settings, picks adapters, and exposes the public operations.

Front ends (CLI, API) call only this. Embedding with an explicit ``store`` / ``embedder``
is how tests and plugin authors swap adapters without touching settings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from docsage.adapters import make_chat_model, make_embedder, make_reranker, make_store
from docsage.agent.loop import AgentAnswerer, Budget
from docsage.answer.confidence import load_calibration
from docsage.answer.extractive import ExtractiveAnswerer
from docsage.answer.generative import GenerationOptions, GenerativeAnswerer
from docsage.answer.routing import ExtractiveRoute, RoutedAnswerer
from docsage.answer.structured import ask_structured
from docsage.errors import ConfigError, NotFoundError
from docsage.ingest.pipeline import IngestOptions, ProgressFn, embed_missing, ingest_folder
from docsage.models.chat import ChatModelConfig
from docsage.ports import CollectionInfo, Embedder, EmbedderConfig, RunStore, ServiceStores, Store
from docsage.ports.chat import Answerer, ChatModel, OnToken
from docsage.pricing import load_prices
from docsage.retrieve import FusionWeights, Mode, Retriever, SearchOptions, SearchResult
from docsage.settings import Settings
from docsage.store.sqlite_claims import Claim, SourceClaims
from docsage.store.sqlite_runs import SQLiteRunStore
from docsage.tune import TrainConfig, TuneReport, require_torch, tune
from docsage.types import Answer, IngestReport

_UNSET: Any = object()
T = TypeVar("T", bound=BaseModel)


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
        chat_models: Mapping[str, ChatModel] | None = None,
        wrap_retriever: Callable[[Retriever], Retriever] | None = None,
    ) -> None:
        """``store``, ``embedder`` and ``chat_models`` (by the names settings use) replace
        what the settings would open; ``wrap_retriever`` decorates the retriever built from
        them (the service's cache does), so no caller needs to subclass ``Docsage``."""
        self.settings = settings or Settings.from_env()
        self.fusion_weights = FusionWeights(  # checked here, so a bad setting fails at start
            fusion=self.settings.fusion,
            lexical=self.settings.lexical_weight,
            dense=self.settings.dense_weight,
            rrf_k=self.settings.rrf_k,
            link_prior=self.settings.link_prior,
            api_prior=self.settings.api_prior,
            title_prior=self.settings.title_prior,
            history_prior=self.settings.history_prior,
        )
        self.reranker = make_reranker(self.settings.reranker)
        self.store: Store = store or make_store(self.settings.store_name)
        self._embedder = embedder
        self._retriever: Retriever | None = None
        self._chat_models: dict[str, ChatModel | None] = dict(chat_models or {})
        self._wrap_retriever = wrap_retriever
        self._claims: SourceClaims | None = None

    @property
    def claims(self) -> SourceClaims:
        """Each collection's source folder and ingest lock, in the index file."""
        if self._claims is None:
            self._claims = SourceClaims(self.settings.index_path)
        return self._claims

    @property
    def embedder(self) -> Embedder | None:
        if self._embedder is _UNSET:
            s = self.settings
            self._embedder = make_embedder(
                s.embedder,
                EmbedderConfig(
                    threads=s.embed_threads, base_url=s.embeddings_url, api_key=s.embeddings_api_key
                ),
            )
        embedder: Embedder | None = self._embedder
        return embedder

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            built = Retriever(
                self.store,
                self.embedder,
                weights=self.fusion_weights,
                reranker=self.reranker,
            )
            self._retriever = self._wrap_retriever(built) if self._wrap_retriever else built
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
        replace_source: bool = False,
        claim: Claim | None = None,
        progress: ProgressFn = _quiet,
    ) -> IngestReport:
        """Ingest the folder ``path`` into ``collection`` while holding its ingest lock.

        A collection with documents from another folder is only switched to ``path`` with
        ``replace_source=True``. ``claim`` is a lock the caller already took (``claim_ingest``);
        it is released here either way.
        """
        root = Path(path).expanduser()
        name = self._collection(collection, must_exist=False)
        held = claim or self.claim_ingest(root, collection=name, replace_source=replace_source)
        completed = False
        try:
            report = self._ingest(
                root, name, ignore, use_default_ignores, embed_seconds, embed, progress
            )
            completed = True
        finally:
            self.claims.release(held, completed=completed)
        return report

    def claim_ingest(self, path: Path, *, collection: str, replace_source: bool = False) -> Claim:
        """Lock ``collection`` for an ingest of ``path`` (``ConflictError`` if it may not)."""
        has_documents = bool(self.store.documents(collection))
        return self.claims.acquire(
            collection, path.resolve(), replace=replace_source, has_documents=has_documents
        )

    def _ingest(
        self,
        root: Path,
        name: str,
        ignore: tuple[str, ...],
        use_default_ignores: bool,
        embed_seconds: float | None,
        embed: bool,
        progress: ProgressFn,
    ) -> IngestReport:
        options = IngestOptions(
            ignore=ignore,
            use_default_ignores=use_default_ignores,
            max_bytes=self.settings.max_file_bytes,
            embed_seconds=embed_seconds,
            max_chunks_per_file=self.settings.max_chunks_per_file,
            max_chunks_per_ingest=self.settings.max_chunks_per_ingest,
        )
        report = ingest_folder(
            self.store,
            root,
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

    def tune(
        self,
        *,
        collection: str | None = None,
        out: Path | None = None,
        pairs: int | None = None,
        config: TrainConfig | None = None,
        progress: Callable[[str], None] = print,
    ) -> TuneReport:
        """Fine-tune the embedder on pairs mined from ``collection``; the model goes to
        ``out`` (default ``HOME/models/<collection>-tuned``), at most ``pairs`` pairs (default
        the ``tune_pairs`` setting). Needs the ``tune`` extra."""
        require_torch()
        name = self._collection(collection)
        folder = out or self.settings.home / "models" / f"{name}-tuned"
        config = config or TrainConfig(threads=self.settings.embed_threads)
        limit = pairs or self.settings.tune_pairs
        return tune(self.store, name, folder, pairs=limit, config=config, progress=progress)

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

    def ask(
        self,
        question: str,
        *,
        collection: str | None = None,
        path_prefix: str = "",
        model: str | None = None,
        agent: bool = False,
        on_token: OnToken | None = None,
    ) -> Answer:
        """Answer with the configured model (``DOCSAGE_MODEL``, or ``model``), with
        escalation and fallback as configured; ``agent`` lets the model use tools.
        ``on_token`` receives the answer's verified text as it streams."""
        name = self._collection(collection)
        spec = model or self.settings.model
        answerer = self._agent(spec) if agent else self._routed(spec)
        return answerer.ask(question, name, path_prefix=path_prefix, on_token=on_token)

    def ask_structured(
        self,
        question: str,
        *,
        output: type[T],
        collection: str | None = None,
        path_prefix: str = "",
        model: str | None = None,
    ) -> tuple[T, Answer]:
        """The verified answer as a validated ``output`` (a pydantic model with an
        ``answer`` field, e.g. ``docsage.answer.structured.AnswerJSON``)."""
        answerer = self._answerer(model or self.settings.model)
        if not isinstance(answerer, GenerativeAnswerer):
            raise ConfigError("structured answers need a chat model: pass model='openai:...'")
        return ask_structured(
            answerer, question, self._collection(collection), path_prefix=path_prefix, output=output
        )

    def add_chat_model(self, spec: str, model: ChatModel) -> None:
        """Answer with ``model`` wherever settings or a call name ``spec``."""
        self._chat_models[spec] = model

    def chat_model(self, spec: str) -> ChatModel | None:
        """The chat model named ``spec`` (None for 'extractive'), made once and kept."""
        if spec not in self._chat_models:
            s = self.settings
            self._chat_models[spec] = make_chat_model(
                spec,
                ChatModelConfig(
                    base_url=s.model_url,
                    api_key=s.model_api_key,
                    timeout_s=s.model_timeout_s,
                    retries=s.model_retries,
                    context_window=s.model_context,
                    json_mode=s.model_json_mode,
                ),
            )
        return self._chat_models[spec]

    def _options(self) -> GenerationOptions:
        s = self.settings
        return GenerationOptions(
            max_tokens=s.max_answer_tokens, threshold=s.support_threshold, action=s.verify_action
        )

    def _answerer(self, spec: str) -> Answerer:
        model = self.chat_model(spec)
        if model is None:
            return ExtractiveRoute(
                ExtractiveAnswerer(
                    self.retriever, abstain_below=self._abstain_threshold(), embedder=self.embedder
                )
            )
        return GenerativeAnswerer(
            self.retriever,
            model,
            pricer=load_prices(self.settings.price_table),
            abstain_below=self._abstain_threshold(),
            options=self._options(),
        )

    def _routed(self, spec: str) -> Answerer:
        s = self.settings
        routes = [(m, self._answerer(m)) for m in dict.fromkeys([spec, s.escalate_model]) if m]
        fallback = s.fallback_model if s.fallback_model not in {"", spec} else None
        if len(routes) == 1 and fallback is None:
            return routes[0][1]
        return RoutedAnswerer(
            routes,
            fallback=(fallback, self._answerer(fallback)) if fallback else None,
            min_confidence=s.escalate_below,
            min_supported=1.0,
        )

    def _agent(self, spec: str) -> Answerer:
        model = self.chat_model(spec)
        if model is None:
            raise ConfigError(
                "agent mode needs a chat model: pass --model openai:<model> (or "
                "llamacpp:<path.gguf>) or set DOCSAGE_MODEL"
            )
        s = self.settings
        budget = Budget(
            max_steps=s.agent_max_steps,
            max_tool_calls=s.agent_max_tool_calls,
            max_tokens=s.agent_max_tokens,
            max_cost_usd=s.agent_max_usd,
            max_seconds=s.agent_max_seconds,
        )
        return AgentAnswerer(
            self.retriever,
            model,
            pricer=load_prices(s.price_table),
            budget=budget,
            options=self._options(),
        )

    def _abstain_threshold(self) -> float:
        if self.settings.abstain_below is not None:
            return self.settings.abstain_below
        return load_calibration().threshold

    def collections(self) -> list[CollectionInfo]:
        return self.store.collections()

    def close(self) -> None:
        for model in self._chat_models.values():
            close = getattr(model, "close", None)
            if callable(close):
                close()
        if self._claims is not None:
            self._claims.close()
        self.store.close()

    def __enter__(self) -> Docsage:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_run_store(settings: Settings) -> RunStore:
    """Where eval runs are kept: the index database."""
    return SQLiteRunStore(settings.index_path)


def open_service_stores(settings: Settings) -> ServiceStores:
    """The service's API keys, request log and jobs: tables in the index database."""
    # Imported here: only the service, ``docsage keys`` and ``docsage report`` open them.
    from docsage.store.sqlite_jobs import SQLiteJobStore
    from docsage.store.sqlite_keys import SQLiteKeyStore
    from docsage.store.sqlite_requests import SQLiteRequestLog

    path = settings.index_path
    return ServiceStores(
        keys=SQLiteKeyStore(path), requests=SQLiteRequestLog(path), jobs=SQLiteJobStore(path)
    )


def prepare_index(settings: Settings) -> None:
    """Create or migrate the index (``docsage serve`` does it once, before its workers)."""
    make_store(settings.store_name).close()
