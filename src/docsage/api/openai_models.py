"""Request and response bodies of the OpenAI-compatible routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from docsage.api.models import COLLECTION_PATTERN, MAX_TEXT, AskResponse, CitationOut
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
        | list[Annotated[str, Field(min_length=1, max_length=100)]]
        | None
    ) = Field(None, max_length=4)
    response_format: ResponseFormat | None = None
    n: int | None = Field(None, ge=1, le=128)
    tools: list[dict[str, Any]] | None = Field(None, max_length=128)
    tool_choice: str | dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
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
        if self.response_format is not None and self.response_format.type == "json_schema":
            raise refuse(
                "response_format",
                "it answers in its own JSON shape; ask for {'type': 'json_object'}",
            )

    @property
    def stops(self) -> tuple[str, ...]:
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ())

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def json_mode(self) -> bool:
        return self.response_format is not None and self.response_format.type == "json_object"


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
        | list[Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]]
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
