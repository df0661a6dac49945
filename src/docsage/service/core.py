"""``Service``: what every API route calls. Auth, tenant checks, limits, caches, the request
log, metrics and traces wrapped around ``Docsage``; no HTTP here."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace

from docsage import deadline
from docsage.answer.routing import failures
from docsage.app import Docsage, open_service_stores
from docsage.errors import AuthError, ForbiddenError, NotFoundError
from docsage.ports import ApiKey, CollectionInfo, Job, ServiceStores
from docsage.ports.chat import OnToken
from docsage.pricing import load_prices
from docsage.service import metrics
from docsage.service.admission import Admission
from docsage.service.cache import CachedRetriever, LRUCache, cached_docsage, normalise
from docsage.service.jobs import JobRunner, collection_folder
from docsage.service.keys import is_loopback
from docsage.service.outcome import AskOutcome, Usage, usage_of
from docsage.service.recording import Recorder
from docsage.service.tracing import SpanExporter, make_tracer
from docsage.settings import Settings
from docsage.store.sqlite_claims import Claim
from docsage.types import EXTRACTIVE, Answer, Chunk, Timings


@dataclass(frozen=True, kw_only=True, slots=True)
class Principal:
    """Who is calling: an API key, or ``None`` when auth is off (local development)."""

    key: ApiKey | None

    @property
    def key_id(self) -> str | None:
        return None if self.key is None else self.key.id

    def can_read(self, collection: str) -> bool:
        return self.key is None or self.key.can_read(collection)

    def has_scope(self, scope: str) -> bool:
        return self.key is None or self.key.has_scope(scope)


class Service:
    def __init__(
        self,
        settings: Settings,
        *,
        span_exporter: SpanExporter | None = None,
        stores: ServiceStores | None = None,
    ) -> None:
        """``stores`` replaces the keys, request log and jobs the settings would open
        (``docsage.app.open_service_stores``); the service closes them either way."""
        self.settings = settings
        self.ds = cached_docsage(settings, retrieval_cache_size=settings.retrieval_cache_size)
        self.stores = stores or open_service_stores(settings)
        self.keys = self.stores.keys
        self.log = self.stores.requests
        self.jobs = JobRunner(self.stores.jobs, self._ingest_docsage, self._release_claim)
        self.prices = load_prices(settings.price_table)
        self.answers: LRUCache[Answer] = LRUCache(settings.answer_cache_size)
        self.tracer = make_tracer(settings.otlp_endpoint, span_exporter)
        self.recorder = Recorder(self.log, self.tracer, capture_content=settings.capture_content)
        self.admission = Admission(settings, self.log)
        self.draining = False
        """Set on SIGTERM (``docsage.api.shutdown``): readiness is false from then on."""
        self.streams_end_at: float | None = None
        """``time.monotonic()`` by which running streams end themselves while draining."""

    def _ingest_docsage(self) -> Docsage:
        return Docsage(self.settings, embedder=self.ds.embedder)

    def _release_claim(self, claim: Claim) -> None:
        self.ds.claims.release(claim, completed=False)

    # -- access -------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> Principal:
        if not self.settings.auth:
            return Principal(key=None)
        scheme, _, secret = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthError(
                "missing API key: send 'Authorization: Bearer <key>' "
                "(create one with: docsage keys create)"
            )
        key = self.keys.authenticate(secret.strip())
        if key is None:
            raise AuthError("unknown or revoked API key")
        return Principal(key=key)

    def authenticate_client(self, authorization: str | None, client: str | None) -> Principal:
        """``authenticate`` for a request from the network address ``client``: with auth
        off, only loopback clients may call (REST and MCP over HTTP alike)."""
        if not self.settings.auth and not is_loopback(client):
            raise ForbiddenError("auth is off (DOCSAGE_AUTH=false): only loopback clients may call")
        return self.authenticate(authorization)

    def require(self, who: Principal, scope: str) -> None:
        if not who.has_scope(scope):
            raise ForbiddenError(f"this API key lacks the {scope!r} scope")

    def readable(self, who: Principal, collection: str | None) -> str:
        """The collection name if it exists and the key may read it; otherwise the same
        NotFoundError either way, naming only collections the key may read."""
        name = collection or self.settings.collection
        if who.can_read(name) and self.ds.store.index_version(name) > 0:
            return name
        known = ", ".join(c.name for c in self.collections(who)) or "none"
        raise NotFoundError(f"no collection named {name!r} for this key (readable: {known})")

    def collections(self, who: Principal) -> list[CollectionInfo]:
        return [c for c in self.ds.collections() if who.can_read(c.name)]

    def admit(self, who: Principal, request_id: str, route: str) -> str | None:
        return self.admission.admit(who.key, request_id, route)

    # -- queries ------------------------------------------------------------------------

    def search(
        self,
        who: Principal,
        query: str,
        collection: str | None,
        k: int,
        mode: str,
        path: str,
        route: str = "search",
    ) -> AskOutcome:
        self.require(who, "ask")
        name = self.readable(who, collection)
        request_id = "req_" + secrets.token_hex(8)
        degraded = self.admit(who, request_id, route)
        started = time.perf_counter()
        try:
            with self.recorder.request(route, name) as span:
                result = self.ds.search(query, collection=name, k=k, mode=mode, path_prefix=path)  # type: ignore[arg-type]
                deadline.check("searching")
                out = AskOutcome(
                    id=request_id,
                    collection=name,
                    answer=None,
                    search=result,
                    usage=Usage(model=EXTRACTIVE),
                    cache_hit=self._retrieval_hit(),
                    degraded=self.settings.over_budget if degraded else None,
                    degraded_reason=degraded,
                )
                self.recorder.success(who.key_id, route, query, out, span)
        except BaseException as exc:
            self.recorder.failure(request_id, who.key_id, route, name, exc, started)
            raise
        return out

    def read_source(
        self,
        who: Principal,
        collection: str | None,
        source: str,
        route: str = "read",
        anchor: str | None = None,
    ) -> list[Chunk]:
        """The chunks of one source of a readable collection, in document order; admitted,
        rate-limited and logged like a search. A missing source, or a source without
        ``anchor`` when one is given, is a NotFoundError."""
        self.require(who, "ask")
        name = self.readable(who, collection)
        request_id = "req_" + secrets.token_hex(8)
        self.admit(who, request_id, route)
        started = time.perf_counter()
        try:
            chunks = self.ds.store.chunks(name, source)
            if not chunks:
                raise NotFoundError(
                    f"no source {source!r} in collection {name!r}; use a ref from a search result"
                )
            if anchor is not None and all(c.anchor != anchor for c in chunks):
                anchors = ", ".join(dict.fromkeys(c.anchor or "(no anchor)" for c in chunks))
                raise NotFoundError(f"{source} has no section {anchor!r}; its sections: {anchors}")
        except BaseException as exc:
            self.recorder.failure(request_id, who.key_id, route, name, exc, started)
            raise
        self.recorder.read(request_id, who.key_id, route, name, started)
        return chunks

    def ask(
        self,
        who: Principal,
        question: str,
        collection: str | None,
        path: str,
        route: str = "ask",
        *,
        agent: bool = False,
        on_token: OnToken | None = None,
    ) -> AskOutcome:
        """Answer (streaming verified text to ``on_token`` if given); ``agent`` lets the
        configured chat model use tools."""
        self.require(who, "ask")
        name = self.readable(who, collection)
        request_id = "req_" + secrets.token_hex(8)
        reason = self.admit(who, request_id, route)
        mode = self.settings.over_budget if reason else None
        started = time.perf_counter()
        how = _Ask(agent=agent, on_token=on_token)
        try:
            with self.recorder.request(route, name) as span:
                out = self._answer(request_id, name, question, path, mode, reason, how)
                self.recorder.success(who.key_id, route, question, out, span)
        except BaseException as exc:
            self.recorder.failure(request_id, who.key_id, route, name, exc, started)
            raise
        return out

    def _answer(
        self,
        request_id: str,
        name: str,
        question: str,
        path: str,
        mode: str | None,
        reason: str | None,
        how: _Ask,
    ) -> AskOutcome:
        usage = Usage(model=EXTRACTIVE, cost_usd=self.prices.cost(EXTRACTIVE, 0, 0))
        base: dict[str, object] = {"id": request_id, "collection": name, "usage": usage}
        if mode == "search-only":
            result = self.ds.search(question, collection=name, k=8, path_prefix=path)
            hit = self._retrieval_hit()
            return AskOutcome(
                **base,  # type: ignore[arg-type]
                answer=None,
                search=result,
                cache_hit=hit,
                degraded=mode,
                degraded_reason=reason,
            )
        started = time.perf_counter()
        model = EXTRACTIVE if mode == "extractive" else None
        key = (normalise(question), name, self.ds.store.index_version(name), path, model, how.agent)
        cached = self.answers.get(key)
        metrics.CACHE.labels("answer", "hit" if cached else "miss").inc()
        if cached is not None:
            metrics.CACHE_SAVED.labels("answer").inc(cached.timings.total_ms / 1000)
            if how.on_token is not None:
                how.on_token(cached.text)
            # A hit reports its own time; the original run's timings would be a lie.
            took = (time.perf_counter() - started) * 1000
            answer = replace(cached, timings=Timings(total_ms=took, first_token_ms=took))
        else:
            answer = self.ds.ask(
                question,
                collection=name,
                path_prefix=path,
                model=model,
                agent=how.agent,
                on_token=how.on_token,
            )
            # Past the deadline the client already has its 504: neither cache nor log a 200.
            deadline.check("answering")
            fell_back = failures(answer)
            for reason in fell_back:
                metrics.FALLBACKS.labels(reason).inc()
            if not fell_back:  # a fallback's answer stands in for the model's only this once
                self.answers.put(key, answer)
        base["usage"] = usage_of(answer) if cached is None else Usage(model=answer.model)
        return AskOutcome(
            **base,  # type: ignore[arg-type]
            answer=answer,
            search=None,
            cache_hit=cached is not None,
            degraded=mode,
            degraded_reason=reason,
        )

    def _retrieval_hit(self) -> bool:
        retriever = self.ds.retriever
        hit = isinstance(retriever, CachedRetriever) and getattr(retriever.last_hit, "value", False)
        metrics.CACHE.labels("retrieval", "hit" if hit else "miss").inc()
        return bool(hit)

    # -- feedback and jobs --------------------------------------------------------------

    def feedback(self, who: Principal, answer_id: str, rating: int, comment: str) -> None:
        self.require(who, "ask")
        if not self._owns_answer(who, answer_id):
            # A foreign answer id gets exactly the error of a missing one: ids cannot be probed.
            raise NotFoundError(
                f"no answer {answer_id!r} for this key; use the id an /v1/ask response gave"
            )
        self.log.add_feedback(answer_id, who.key_id, rating, comment)
        metrics.FEEDBACK.labels("up" if rating > 0 else "down").inc()

    def _owns_answer(self, who: Principal, answer_id: str) -> bool:
        try:
            owner = self.log.owner(answer_id)
        except NotFoundError:
            return False
        return who.key is None or owner == who.key.id or who.key.has_scope("admin")

    def start_ingest(
        self, who: Principal, path: str, collection: str, *, replace_source: bool = False
    ) -> Job:
        self.require(who, "ingest")
        if not who.can_read(collection):
            raise ForbiddenError(f"this API key may not write collection {collection!r}")
        folder = collection_folder(self.settings.ingest_root, collection, path)
        claim = self.ds.claim_ingest(folder, collection=collection, replace_source=replace_source)
        try:
            return self.jobs.start(who.key_id, claim, folder)
        except BaseException:
            self.ds.claims.release(claim, completed=False)
            raise

    def job(self, who: Principal, job_id: str) -> Job:
        admin = who.key is not None and who.key.has_scope("admin")
        return self.jobs.get(job_id, who.key_id, admin=admin)

    def cancel_job(self, who: Principal, job_id: str) -> Job:
        admin = who.key is not None and who.key.has_scope("admin")
        return self.jobs.cancel(job_id, who.key_id, admin=admin)

    def begin_drain(self) -> None:
        """Readiness turns false; streams end (with an error event) a little before the
        shutdown delay and grace period are over, while their connections still work."""
        if self.draining:
            return
        self.draining = True
        s = self.settings
        margin = min(1.0, s.shutdown_grace_s / 2)
        self.streams_end_at = time.monotonic() + s.shutdown_delay_s + s.shutdown_grace_s - margin

    def ready(self) -> dict[str, object]:
        """Raises if the index cannot be read; loads the embedder so the first query is fast."""
        infos = self.ds.collections()
        return {"collections": len(infos), "embedder": getattr(self.ds.embedder, "name", None)}

    def close(self) -> None:
        self.stores.close()
        self.ds.close()


@dataclass(frozen=True, kw_only=True, slots=True)
class _Ask:
    agent: bool = False
    on_token: OnToken | None = None
