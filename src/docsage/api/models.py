"""Request and response bodies of the HTTP API, with their bounds."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
MAX_TEXT = 10_000  # hard cap; DOCSAGE_MAX_QUESTION_CHARS (default 2000) is checked on top

Collection = Field(None, pattern=COLLECTION_PATTERN, description="Default: DOCSAGE_COLLECTION.")


def _json_integer(value: object) -> object:
    """An integer as JSON Schema means it: 5 or 5.0, but neither "5" nor true (client bugs
    to report, not values to guess at); 5.5 fails the int check that follows."""
    if isinstance(value, bool | str):
        raise ValueError("must be a JSON integer, not a string or a boolean")
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AskOptions(Strict):
    path_prefix: str = Field("", max_length=512, description="Only sources under this prefix.")
    include_sources: StrictBool = Field(True, description="Return the closest chunks as well.")
    agent: StrictBool = Field(False, description="Let the configured chat model search with tools.")


# Some character that is not whitespace, spelled out so that Python, pydantic's Rust regex
# and the schema's ECMAScript regex agree (their \s differ on U+001C-001F, U+0085, U+FEFF).
NOT_BLANK = (
    r"[^\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"\u001c-\u001f]"
)


class AskRequest(Strict):
    question: str = Field(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)
    collection: str | None = Collection
    options: AskOptions = Field(default_factory=lambda: AskOptions.model_validate({}))


class SearchRequest(Strict):
    query: str = Field(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK)
    collection: str | None = Collection
    k: JsonInt = Field(10, ge=1, le=100)
    mode: Literal["hybrid", "lexical", "dense"] = "hybrid"
    path_prefix: str = Field("", max_length=512)


class CitationOut(BaseModel):
    number: int
    ref: str = Field(description="source#anchor")
    source: str
    anchor: str
    title: str
    lines: list[int] | None
    quote: str


class HitOut(BaseModel):
    ref: str
    source: str
    anchor: str
    title: str
    kind: str
    score: float
    lines: list[int] | None
    text: str


class TimingsOut(BaseModel):
    retrieve_ms: float = 0.0
    rerank_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    first_token_ms: float = 0.0


class UsageOut(BaseModel):
    model: str = Field(description="'extractive' makes no model call: 0 tokens, cost 0.")
    input_tokens: int
    output_tokens: int
    cost_usd: float


class RouteUsageOut(UsageOut):
    calls: int = 0
    estimated: bool = Field(False, description="Counted by docsage: the server sent no usage.")


class SentenceCheckOut(BaseModel):
    sentence: str
    cited: list[int]
    support: float
    supported: bool
    reason: str


class VerificationOut(BaseModel):
    method: str
    threshold: float
    action: str = Field(description="What happened to unsupported sentences: remove or mark.")
    checked: int
    supported: int
    sentences: list[SentenceCheckOut]


class TraceStepOut(BaseModel):
    kind: str = Field(
        description="model, tool, route, stop or safety (what the untrusted-text defences removed)"
    )
    name: str
    detail: str
    result_chars: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    ms: float
    error: str


class AskResponse(BaseModel):
    id: str = Field(description="Answer id, for POST /v1/feedback.")
    collection: str
    question: str
    answer: str | None = Field(description="None when degraded to search-only.")
    abstained: bool
    confidence: float
    citations: list[CitationOut]
    sources: list[HitOut]
    timings: TimingsOut
    usage: UsageOut
    cache_hit: bool
    degraded: str | None = Field(description="Set when over budget: the degrade mode used.")
    degraded_reason: str | None
    index_version: int
    model: str = "extractive"
    routes: list[RouteUsageOut] = Field([], description="Usage and cost per model called.")
    verification: VerificationOut | None = None
    trace: list[TraceStepOut] = []


class SearchResponse(BaseModel):
    id: str
    collection: str
    query: str
    hits: list[HitOut]
    dense: bool
    timings: TimingsOut
    cache_hit: bool
    degraded: str | None
    degraded_reason: str | None


class CollectionOut(BaseModel):
    name: str
    documents: int
    chunks: int
    index_version: int


class CollectionsResponse(BaseModel):
    collections: list[CollectionOut]


class FeedbackRequest(Strict):
    answer_id: str = Field(pattern=r"^req_[0-9a-f]{16}$")
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


class FeedbackResponse(BaseModel):
    ok: bool


class IngestRequest(Strict):
    path: str = Field(
        min_length=1,
        max_length=1024,
        description="Relative to the ingest root; must lie in the collection's own folder, "
        "<ingest root>/<collection>/.",
    )
    collection: str = Field(pattern=COLLECTION_PATTERN)
    replace: bool = Field(
        default=False,
        description="Make this folder the collection's source even if it was ingested from "
        "another one (its documents that are not in this folder are removed).",
    )


class JobOut(BaseModel):
    id: str
    collection: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: dict[str, list[int]] = Field(description="stage -> [done, total]")
    result: dict[str, object] | None
    error: str | None
    created_at: float
    updated_at: float


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail
