"""Request and response bodies of the OpenAI-compatible routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from docsage.api.models import COLLECTION_PATTERN, MAX_TEXT, AskResponse, CitationOut
from docsage.api.openai_json import client_schema
from docsage.api.openai_params import OpenAIRequestError, refuse

MODEL_PREFIX = "docsage"
MAX_EMBED_INPUTS = 64


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


def _only(accepted: dict[str, Any]) -> WithJsonSchema:
    """The schema of an OpenAI parameter docsage refuses (400) beyond ``accepted`` or null."""
    return WithJsonSchema(
        {
            "anyOf": [accepted, {"type": "null"}],
            "description": "Other values are refused with 400 (invalid_request_error).",
        }
    )


class StreamOptions(BaseModel):
    include_usage: bool = False


class ResponseFormat(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["text", "json_object", "json_schema"]


class ChatRequest(BaseModel):
    """OpenAI's chat body. Sampling fields docsage has no use for (temperature, top_p...)
    are ignored; the ones that would change what a client gets and that docsage cannot
    honour (tools, tool_choice, n > 1, logprobs) are refused with 400."""

    model_config = ConfigDict(extra="ignore")
    model: str = Field(MODEL_PREFIX, max_length=200, description="'docsage:<collection>'")
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, le=100_000)
    max_completion_tokens: int | None = Field(None, ge=1, le=100_000)
    stop: (
        Annotated[str, Field(min_length=1, max_length=100)]
        | Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=4)]
        | None
    ) = None
    response_format: ResponseFormat | None = None
    # Accepted so that the refusal is OpenAI's 400 naming the parameter; the schema says
    # which values docsage serves (one answer, no client tools, no logprobs).
    n: Annotated[int | None, _only({"type": "integer", "minimum": 1, "maximum": 1})] = Field(
        None, ge=1, le=128
    )
    tools: Annotated[list[dict[str, Any]] | None, _only({"type": "array", "maxItems": 0})] = Field(
        None, max_length=128
    )
    tool_choice: Annotated[
        str | dict[str, Any] | None, _only({"type": "string", "enum": ["none"]})
    ] = None
    logprobs: Annotated[bool | None, _only({"type": "boolean", "enum": [False]})] = None
    top_logprobs: Annotated[int | None, _only({"type": "integer", "minimum": 0, "maximum": 0})] = (
        Field(None, ge=0, le=20)
    )
    collection: str | None = Field(None, pattern=COLLECTION_PATTERN)
    agent: bool = Field(False, description="docsage: let the chat model search with tools.")

    def refuse_unsupported(self) -> None:
        if self.tools:
            raise refuse("tools", "it answers from the docs and calls no client tools")
        if self.tool_choice not in (None, "none"):
            raise refuse("tool_choice", "it calls no client tools")
        if self.n is not None and self.n > 1:
            raise refuse("n", "it returns one answer per request")
        if self.logprobs or self.top_logprobs:
            raise refuse("logprobs" if self.logprobs else "top_logprobs", "it has none")
        self.schema_validator()  # a schema docsage's answers cannot satisfy: 400 now

    def schema_validator(self) -> Draft202012Validator | None:
        """The client's JSON schema (``response_format`` json_schema), validated."""
        fmt = self.response_format
        if fmt is None or fmt.type != "json_schema":
            return None
        return client_schema((fmt.model_extra or {}).get("json_schema"))

    @property
    def stops(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def json_mode(self) -> bool:
        fmt = self.response_format
        return fmt is not None and fmt.type in ("json_object", "json_schema")


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


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input: (
        Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
        | Annotated[
            list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]],
            Field(min_length=1, max_length=MAX_EMBED_INPUTS),
        ]
    ) = Field(description=f"A text or up to {MAX_EMBED_INPUTS} texts.")
    model: str = Field("", max_length=200, description="Ignored: the configured embedder is used.")
    encoding_format: Literal["float", "base64"] = "float"

    @property
    def texts(self) -> list[str]:
        texts = [self.input] if isinstance(self.input, str) else self.input
        if not texts or len(texts) > MAX_EMBED_INPUTS:
            message = f"give 1 to {MAX_EMBED_INPUTS} texts per request, not {len(texts)}"
            raise OpenAIRequestError(message, "input", "invalid_value")
        return texts


class EmbeddingOut(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingsUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingOut]
    model: str
    usage: EmbeddingsUsage
