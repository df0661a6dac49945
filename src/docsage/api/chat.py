"""``POST /v1/chat/completions`` (OpenAI-compatible) and ``GET /v1/models``.

The collection comes from ``collection`` or from the model name ``docsage:<collection>``. The
answer text ends with a "Sources" list, and the structured citations travel in an extra
``citations`` field (on the response, and on the last chunk when streaming).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from docsage.api.convert import ask_response
from docsage.api.deps import Caller, ServiceDep, check_question, run
from docsage.api.models import COLLECTION_PATTERN, MAX_TEXT, AskResponse, CitationOut
from docsage.api.routes import _ERRORS
from docsage.errors import NotFoundError, UsageError
from docsage.service.core import Principal, Service
from docsage.service.outcome import AskOutcome

router = APIRouter(prefix="/v1", responses=_ERRORS)
MODEL_PREFIX = "docsage"


class TextPart(BaseModel):
    type: Literal["text"]
    text: str = Field(max_length=MAX_TEXT)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Annotated[str, Field(max_length=MAX_TEXT)] | list[TextPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(p.text for p in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """OpenAI's fields that docsage does not use (temperature, max_tokens...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field(MODEL_PREFIX, max_length=200, description="'docsage:<collection>'")
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    collection: str | None = Field(None, pattern=COLLECTION_PATTERN)
    agent: bool = Field(False, description="docsage: let the chat model search with tools.")


class ChatChoice(BaseModel):
    index: int
    message: dict[str, str]
    finish_reason: str


class ChatUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    citations: list[CitationOut]
    docsage: AskResponse


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "docsage"


class ModelsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


def collection_of(body: ChatRequest) -> str | None:
    if body.collection:
        return body.collection
    prefix, _, name = body.model.partition(":")
    if prefix != MODEL_PREFIX:
        raise NotFoundError(f"unknown model {body.model!r}; use 'docsage:<collection>'")
    return name or None


def question_of(body: ChatRequest) -> str:
    users = [m.text() for m in body.messages if m.role == "user" and m.text().strip()]
    if not users:
        raise UsageError("no user message with text to answer")
    return users[-1]


def content_of(answer: AskResponse) -> str:
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


def _chunk(base: dict[str, object], delta: dict[str, str], finish: str | None) -> dict[str, object]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {**base, "object": "chat.completion.chunk", "choices": [choice]}


def _event(payload: dict[str, object]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def closing_events(answer: AskResponse, base: dict[str, object], sent: str) -> Iterator[str]:
    """What follows the streamed text: the rest of the content (the Sources list, or all
    of it for a cached answer), a final chunk with citations, usage and docsage's
    verification and trace, then ``[DONE]``."""
    content = content_of(answer)
    rest = content[len(sent) :] if content.startswith(sent) else ""
    for start in range(0, len(rest), 80):
        yield _event(_chunk(base, {"content": rest[start : start + 80]}, None))
    last = _chunk(base, {}, "stop") | {
        "citations": [c.model_dump() for c in answer.citations],
        "usage": {
            "prompt_tokens": answer.usage.input_tokens,
            "completion_tokens": answer.usage.output_tokens,
            "total_tokens": answer.usage.input_tokens + answer.usage.output_tokens,
        },
        "docsage": answer.model_dump(
            include={
                "id",
                "model",
                "abstained",
                "confidence",
                "timings",
                "routes",
                "verification",
                "trace",
            }
        ),
    }
    yield _event(last)
    yield "data: [DONE]\n\n"


async def stream_answer(
    svc: Service, who: Principal, question: str, collection: str | None, body: ChatRequest
) -> AsyncIterator[str]:
    """Server-sent events as the answer is generated: verified text goes out as soon as the
    answerer releases it (see ``docsage.answer.verify.VerifiedStream``)."""
    send, receive = anyio.create_memory_object_stream[str](max_buffer_size=1000)
    base: dict[str, object] = {
        "id": "chatcmpl-pending",
        "created": int(time.time()),
        "model": body.model,
    }
    yield _event(_chunk(base, {"role": "assistant", "content": ""}, None))
    done: list[AskOutcome] = []

    def on_token(text: str) -> None:
        anyio.from_thread.run(send.send, text)

    def ask() -> AskOutcome:
        return svc.ask(who, question, collection, "", "chat", agent=body.agent, on_token=on_token)

    async def work() -> None:
        async with send:
            done.append(await run(svc, ask))

    sent = ""
    try:
        async with receive, anyio.create_task_group() as group:
            group.start_soon(work)
            async for piece in receive:
                sent += piece
                yield _event(_chunk(base, {"content": piece}, None))
    except Exception as exc:  # headers are gone: the error travels as a last event
        yield _event({"error": {"type": type(exc).__name__, "message": str(exc)}})
        yield "data: [DONE]\n\n"
        return
    answer = ask_response(done[0], question, include_sources=True)
    base["id"] = f"chatcmpl-{answer.id}"
    for event in closing_events(answer, base, sent):
        yield event


@router.post(
    "/chat/completions",
    response_model=ChatResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_completions(
    body: ChatRequest, svc: ServiceDep, who: Caller
) -> ChatResponse | StreamingResponse:
    """OpenAI-compatible chat; ``stream: true`` answers with server-sent events."""
    question, collection = question_of(body), collection_of(body)
    check_question(svc, question)
    if body.stream:
        await run(svc, lambda: svc.readable(who, collection))  # a 404 before the stream starts
        events = stream_answer(svc, who, question, collection, body)
        return StreamingResponse(events, media_type="text/event-stream")
    out = await run(svc, lambda: svc.ask(who, question, collection, "", "chat", agent=body.agent))
    answer = ask_response(out, question, include_sources=True)
    usage = answer.usage
    return ChatResponse(
        id=f"chatcmpl-{answer.id}",
        created=int(time.time()),
        model=body.model,
        choices=[
            ChatChoice(
                index=0,
                message={"role": "assistant", "content": content_of(answer)},
                finish_reason="stop",
            )
        ],
        usage=ChatUsage(
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            total_tokens=usage.input_tokens + usage.output_tokens,
        ),
        citations=answer.citations,
        docsage=answer,
    )


@router.get("/models", response_model=ModelsResponse)
async def models(svc: ServiceDep, who: Caller) -> ModelsResponse:
    """One model per readable collection, for chat UIs that list models."""
    infos = await run(svc, lambda: svc.collections(who))
    return ModelsResponse(data=[ModelOut(id=f"{MODEL_PREFIX}:{c.name}") for c in infos])
