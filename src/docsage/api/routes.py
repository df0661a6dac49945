"""The ``/v1`` routes (ask, search, collections, feedback, ingest, jobs). Each is a few
lines over ``Service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from docsage.api.convert import ask_response, search_response
from docsage.api.deps import ERROR_RESPONSES, Caller, ServiceDep, check_question
from docsage.api.models import (
    AskRequest,
    AskResponse,
    CollectionOut,
    CollectionsResponse,
    ErrorResponse,
    FeedbackRequest,
    FeedbackResponse,
    IngestRequest,
    JobOut,
    SearchRequest,
    SearchResponse,
)
from docsage.ports import Job
from docsage.service.offload import run

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.post("/ask", response_model=AskResponse)
async def ask(body: AskRequest, svc: ServiceDep, who: Caller) -> AskResponse:
    """Answer a question from a collection, with citations, or abstain."""
    check_question(svc, body.question)
    options = body.options
    out = await run(
        svc,
        lambda: svc.ask(
            who, body.question, body.collection, options.path_prefix, agent=options.agent
        ),
    )
    return ask_response(out, body.question, body.options.include_sources)


@router.post("/search", response_model=SearchResponse)
async def search(body: SearchRequest, svc: ServiceDep, who: Caller) -> SearchResponse:
    """Ranked hits with provenance."""
    check_question(svc, body.query)
    out = await run(
        svc,
        lambda: svc.search(who, body.query, body.collection, body.k, body.mode, body.path_prefix),
    )
    return search_response(out, body.query)


@router.get("/collections", response_model=CollectionsResponse)
async def collections(svc: ServiceDep, who: Caller) -> CollectionsResponse:
    """The collections this key may read."""
    infos = await run(svc, lambda: svc.collections(who))
    return CollectionsResponse(
        collections=[
            CollectionOut(
                name=c.name, documents=c.documents, chunks=c.chunks, index_version=c.index_version
            )
            for c in infos
        ]
    )


@router.post("/feedback", response_model=FeedbackResponse)
async def feedback(body: FeedbackRequest, svc: ServiceDep, who: Caller) -> FeedbackResponse:
    """Thumbs up or down (and a comment) on an answer this key received."""
    rating = 1 if body.rating == "up" else -1
    await run(svc, lambda: svc.feedback(who, body.answer_id, rating, body.comment))
    return FeedbackResponse(ok=True)


def _job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        collection=job.collection,
        state=job.state,
        progress=job.progress,
        result=job.result,
        error=job.error,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@router.post(
    "/ingest",
    response_model=JobOut,
    status_code=202,
    responses={409: {"model": ErrorResponse}},
)
async def ingest(body: IngestRequest, svc: ServiceDep, who: Caller) -> JobOut:
    """Start ingesting a folder of DOCSAGE_INGEST_ROOT/<collection> (needs the ingest scope);
    409 while another ingest of the collection runs."""
    job = await run(
        svc,
        lambda: svc.start_ingest(who, body.path, body.collection, replace_source=body.replace),
    )
    return _job_out(job)


@router.get("/jobs/{job_id}", response_model=JobOut)
async def job(job_id: Annotated[str, Path(max_length=64)], svc: ServiceDep, who: Caller) -> JobOut:
    """Progress of an ingest job started by this key."""
    return _job_out(await run(svc, lambda: svc.job(who, job_id)))


@router.delete("/jobs/{job_id}", response_model=JobOut, status_code=202)
async def cancel_job(
    job_id: Annotated[str, Path(max_length=64)], svc: ServiceDep, who: Caller
) -> JobOut:
    """Cancel a queued or running ingest job of this key; it ends in state "cancelled" and
    the index keeps what was committed (follow it with GET)."""
    return _job_out(await run(svc, lambda: svc.cancel_job(who, job_id)))
