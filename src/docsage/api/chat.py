"""``POST /v1/chat/completions`` (OpenAI-compatible), ``GET /v1/models[/{id}]`` and
``POST /v1/embeddings``.

The collection comes from ``collection`` or from the model name ``docsage:<collection>``. The
answer text ends with a "Sources" list, and the structured citations travel in an extra
``citations`` field (on the response, and on the last chunk when streaming). A follow-up
question is made standalone from the earlier turns (``docsage.api.openai_history``).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import AsyncIterator, Iterator

import numpy as np
from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from docsage.api.convert import ask_response
from docsage.api.deps import ERROR_RESPONSES, Caller, ServiceDep, check_question
from docsage.api.models import AskResponse
from docsage.api.openai_history import standalone
from docsage.api.openai_json import fitted
from docsage.api.openai_models import (
    MODEL_PREFIX,
    ChatChoice,
    ChatRequest,
    ChatResponse,
    ChatUsage,
    EmbeddingOut,
    EmbeddingsRequest,
    EmbeddingsResponse,
    EmbeddingsUsage,
    ModelOut,
    ModelsResponse,
)
from docsage.api.openai_params import OutputLimit, limit_text
from docsage.api.openai_stream import DONE, AnswerFeed, event, first_piece, guarded
from docsage.errors import ConfigError, NotFoundError, UsageError
from docsage.models.chat import estimate_tokens
from docsage.ports.chat import OnToken
from docsage.service.core import Principal, Service
from docsage.service.offload import run
from docsage.service.outcome import AskOutcome
from docsage.types import EXTRACTIVE

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


def collection_of(body: ChatRequest) -> str | None:
    if body.collection:
        return body.collection
    prefix, _, name = body.model.partition(":")
    if prefix != MODEL_PREFIX:
        raise NotFoundError(f"unknown model {body.model!r}; use 'docsage:<collection>'")
    return name or None


def question_of(svc: Service, body: ChatRequest) -> str:
    """The last user turn, made standalone from the conversation when it follows up (by
    the configured chat model, or by rule with the extractive default)."""
    turns = [(m.role, m.text()) for m in body.messages if m.role in ("user", "assistant")]
    if not any(role == "user" and text.strip() for role, text in turns):
        raise UsageError("no user message with text to answer")
    spec = svc.settings.model
    model = None if spec == EXTRACTIVE else svc.ds.chat_model(spec)
    return standalone(turns, model)


def content_of(answer: AskResponse, body: ChatRequest | None = None) -> str:
    if body is not None and body.json_mode:
        return fitted(answer, body.schema_validator())
    if answer.answer is None:  # degraded to search-only
        lines = [f"Search results only ({answer.degraded_reason}):"]
        lines += [f"- {h.ref} ({h.title})" for h in answer.sources]
        return "\n".join(lines)
    if not answer.citations:
        return answer.answer
    sources = [
        f"[{c.number}] {c.ref}" + (f" (lines {c.lines[0]}-{c.lines[1]})" if c.lines else "")
        for c in answer.citations
    ]
    return answer.answer + "\n\nSources:\n" + "\n".join(sources)


def usage_of(answer: AskResponse) -> ChatUsage:
    used = answer.usage
    total = used.input_tokens + used.output_tokens
    return ChatUsage(
        prompt_tokens=used.input_tokens, completion_tokens=used.output_tokens, total_tokens=total
    )


def _chunk(base: dict[str, object], delta: dict[str, str], finish: str | None) -> dict[str, object]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {**base, "object": "chat.completion.chunk", "choices": [choice]}


def closing_events(
    answer: AskResponse, base: dict[str, object], body: ChatRequest, limit: OutputLimit
) -> Iterator[str]:
    """The last chunk (finish_reason, citations, usage and docsage's verification and
    trace), the usage chunk OpenAI sends for ``stream_options.include_usage``, ``[DONE]``."""
    usage = usage_of(answer).model_dump()
    last = _chunk(base, {}, limit.finish_reason) | {
        "citations": [c.model_dump() for c in answer.citations],
        "usage": usage,
        "docsage": answer.model_dump(
            include={"id", "model", "abstained", "confidence", "timings", "routes"}
            | {"verification", "trace"}
        ),
    }
    yield event(last)
    if body.stream_options and body.stream_options.include_usage:
        yield event({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
    yield DONE


async def stream_events(
    feed: AnswerFeed, first: str | None, body: ChatRequest, question: str
) -> AsyncIterator[str]:
    """Server-sent events: verified text as the answerer releases it (see
    ``docsage.answer.verify.VerifiedStream``), then the rest of the final content (the
    Sources list, or all of it for a cached or JSON answer), so what streams is exactly
    the final content."""
    base: dict[str, object] = {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "created": int(time.time()),
        "model": body.model,
    }
    limit = OutputLimit(stop=body.stops, max_tokens=body.token_limit)
    yield event(_chunk(base, {"role": "assistant", "content": ""}, None))
    raw, piece = "", first
    while piece is not None:
        raw += piece
        if not body.json_mode and (text := limit.feed(piece)):
            yield event(_chunk(base, {"content": text}, None))
        piece = await feed.next()
    answer = ask_response(feed.outcome(), question, include_sources=True)
    content = content_of(answer, body)
    rest = content if body.json_mode else content[len(raw) :]
    if not body.json_mode and not content.startswith(raw):
        raise RuntimeError("streamed text is not a prefix of the final answer")
    text = limit.feed(rest) + limit.close()
    for start in range(0, len(text), 80):
        yield event(_chunk(base, {"content": text[start : start + 80]}, None))
    for item in closing_events(answer, base, body, limit):
        yield item


async def start_stream(
    svc: Service, who: Principal, question: str, collection: str | None, body: ChatRequest
) -> StreamingResponse:
    def work(on_token: OnToken) -> AskOutcome:
        return svc.ask(who, question, collection, "", "chat", agent=body.agent, on_token=on_token)

    feed = AnswerFeed.start(work, svc.settings.request_timeout_s, lambda: svc.streams_end_at)
    first = await first_piece(feed)  # admission and early failures raise here, before the 200
    events = guarded(stream_events(feed, first, body, question), feed)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@router.post(
    "/chat/completions",
    response_model=ChatResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatRequest, svc: ServiceDep, who: Caller
) -> ChatResponse | StreamingResponse:
    """OpenAI-compatible chat; ``stream: true`` answers with server-sent events."""
    body.refuse_unsupported()
    collection = collection_of(body)
    await run(svc, lambda: svc.readable(who, collection))  # a 404 before any model call
    question = await run(svc, lambda: question_of(svc, body))
    check_question(svc, question)
    if body.stream:
        return await start_stream(svc, who, question, collection, body)
    out = await run(svc, lambda: svc.ask(who, question, collection, "", "chat", agent=body.agent))
    answer = ask_response(out, question, include_sources=True)
    content, finish = limit_text(content_of(answer, body), body.stops, body.token_limit)
    return ChatResponse(
        id=f"chatcmpl-{answer.id}",
        created=int(time.time()),
        model=body.model,
        choices=[
            ChatChoice(
                index=0, message={"role": "assistant", "content": content}, finish_reason=finish
            )
        ],
        usage=usage_of(answer),
        citations=answer.citations,
        docsage=answer,
    )


@router.get("/models", response_model=ModelsResponse)
async def models(svc: ServiceDep, who: Caller) -> ModelsResponse:
    """One model per readable collection, for chat UIs that list models."""
    infos = await run(svc, lambda: svc.collections(who))
    return ModelsResponse(data=[ModelOut(id=f"{MODEL_PREFIX}:{c.name}") for c in infos])


@router.get("/models/{model_id}", response_model=ModelOut)
async def model(model_id: str, svc: ServiceDep, who: Caller) -> ModelOut:
    """One model, ``docsage:<collection>``; 404 for a collection the key may not read."""
    infos = await run(svc, lambda: svc.collections(who))
    known = {f"{MODEL_PREFIX}:{c.name}" for c in infos}
    if model_id not in known:
        raise NotFoundError(f"no model {model_id!r}; GET /v1/models lists the ones you may use")
    return ModelOut(id=model_id)


@router.post("/embeddings", response_model=EmbeddingsResponse)
async def embeddings(body: EmbeddingsRequest, svc: ServiceDep, who: Caller) -> EmbeddingsResponse:
    """Vectors from the configured embedder (``DOCSAGE_EMBEDDER``), in OpenAI's shape."""
    texts = body.texts
    svc.require(who, "ask")
    embedder = svc.ds.embedder
    if embedder is None:
        raise ConfigError("no embedder is configured: set DOCSAGE_EMBEDDER")
    vectors = await run(svc, lambda: embedder.embed(texts))
    data = [
        EmbeddingOut(index=i, embedding=_encoded(v, body.encoding_format))
        for i, v in enumerate(vectors)
    ]
    tokens = sum(estimate_tokens(t) for t in texts)
    usage = EmbeddingsUsage(prompt_tokens=tokens, total_tokens=tokens)
    return EmbeddingsResponse(data=data, model=embedder.name, usage=usage)


def _encoded(vector: np.ndarray, encoding: str) -> list[float] | str:
    if encoding == "base64":  # what the openai SDK asks for by default: float32 bytes
        return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()
    return [float(x) for x in vector]
