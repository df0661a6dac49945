"""Every setting in one model: name, type, default, help. Read once, from ``DOCSAGE_*``
variables, and checked at once (pydantic-settings): a choice outside its ``Literal`` or a value
of the wrong type fails at start with the valid values, instead of changing behaviour later.

Only ``app.py`` and the front ends use this module; everything below takes explicit arguments.
``Settings(...)`` is the defaults plus what it is given; ``Settings.from_env()`` adds the
environment (or a mapping given in its place) under what it is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from docsage.agent.budget import Budget
from docsage.errors import ConfigError
from docsage.grounding import DEFAULT_THRESHOLD
from docsage.ingest.pipeline import IngestOptions
from docsage.models.chat import ChatModelConfig
from docsage.ports.chat import JsonMode
from docsage.retrieve import FusionWeights

PREFIX = "DOCSAGE_"
# Retrieval defaults are defined once, on FusionWeights; the settings read them from there.
_FUSION = FusionWeights()
_BUDGET = Budget()
_CHAT = ChatModelConfig()
_INGEST = IngestOptions()
_DEFAULT_HOME = Path.home() / ".docsage"
# The variables ``from_env`` reads from: none unless it is reading (so ``Settings(...)``
# ignores the environment, as tests and embedding code expect).
_environ: ContextVar[Mapping[str, str] | None] = ContextVar("docsage_environ", default=None)
# Variables a release stopped reading, and what replaces them: refused rather than ignored.
_REPLACED = {
    "DOCSAGE_RERANK": "set DOCSAGE_RERANKER=none (was DOCSAGE_RERANK=false) or leave it unset "
    "for the identifier reranker",
}


def _setting(default: Any, help: str) -> Any:
    return Field(default=default, description=help)


class _DocsageEnv(PydanticBaseSettingsSource):
    """``DOCSAGE_<NAME>`` variables of the mapping ``from_env`` reads. A setting that may be
    None is None when its variable is ``none`` (how a limit with a default is switched off)
    or, if None is its default, empty."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raw = (_environ.get() or {}).get(PREFIX + field_name.upper())
        return raw, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = _environ.get() or {}
        for old, new in _REPLACED.items():
            if old in environ:
                raise ConfigError(f"{old} is no longer read: {new}")
        values: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            raw, _, _ = self.get_field_value(info, name)
            if raw is None:
                continue
            nullable = type(None) in get_args(info.annotation)
            unset = raw.strip().lower() == "none" or (info.default is None and not raw.strip())
            values[name] = None if nullable and unset else raw
        return values


class Settings(BaseSettings):
    home: Path = _setting(_DEFAULT_HOME, "Folder holding the index (index.sqlite) and its caches.")
    store: str | None = _setting(
        None,
        "Where the index lives: 'sqlite:<path>' (that SQLite file, which then also holds the "
        "ingest locks, eval runs, API keys and request log) or a plugin's store; unset = "
        "sqlite:<DOCSAGE_HOME>/index.sqlite.",
    )
    collection: str = _setting("default", "Collection used when a command names none.")
    embedder: str = _setting(
        "onnx:all-MiniLM-L6-v2",
        "Embedding model: 'onnx:all-MiniLM-L6-v2' (local), 'onnx:<path>.onnx' (a local "
        "MiniLM graph, such as `docsage tune` writes), 'openai:<model>' (any "
        "OpenAI-compatible /v1/embeddings server) or 'none' (lexical search only).",
    )
    embeddings_url: str = _setting(
        "http://127.0.0.1:8000/v1", "Base URL of the OpenAI-compatible embeddings server."
    )
    embeddings_api_key: str = _setting("", "API key sent to the embeddings server, if any.")
    embed_threads: int | None = _setting(
        None, "ONNX Runtime threads for the local embedder; unset = all cores."
    )
    tune_pairs: int = _setting(
        2000,
        "At most this many (title or heading -> text) pairs for `docsage tune`: about 12 "
        "minutes of training on 2 cores for 256-token passages.",
    )
    max_file_bytes: int = _setting(10 * 1024 * 1024, "Files larger than this are skipped.")
    max_chunks_per_file: int | None = _setting(
        _INGEST.max_chunks_per_file,
        "Chunks kept from one file; the rest is cut and reported ('none' = no limit). A .jsonl "
        "file of records is many documents: only the ingest limit bounds it.",
    )
    max_chunks_per_ingest: int | None = _setting(
        _INGEST.max_chunks_per_ingest,
        "New chunks one ingest may write; later files are cut or skipped ('none' = no limit).",
    )
    reranker: str = _setting(
        "identifier",
        "Reranking stage after fusion: 'identifier' (entries named in the question move up), "
        "'none', or a plugin's reranker.",
    )
    fusion: Literal["zscore", "rrf"] = _setting(
        _FUSION.fusion,
        "How hybrid search fuses its lexical and dense lists: 'zscore' (weighted sum of "
        "z-normalised scores) or 'rrf' (weighted reciprocal rank fusion).",
    )
    lexical_weight: float = _setting(_FUSION.lexical, "Weight of the lexical list in fusion.")
    dense_weight: float = _setting(_FUSION.dense, "Weight of the dense list in fusion.")
    rrf_k: float = _setting(
        _FUSION.rrf_k, "The k of reciprocal rank fusion, 1 / (k + rank); also ranks a single list."
    )
    link_prior: float = _setting(
        _FUSION.link_prior,
        "Weight of the in-link prior (entries the docs link to often rank higher); 0 = off.",
    )
    title_prior: float = _setting(
        _FUSION.title_prior,
        "Weight of the heading prior: a section whose heading says what the question says "
        "(an FAQ entry asked in its own words) outranks any in-link prior; 0 = off.",
    )
    history_prior: float = _setting(
        _FUSION.history_prior,
        "Score multiplier for changelogs, What's New and migration notes, unless the question "
        "asks about a change or a version; 1 = off.",
    )
    api_prior: float = _setting(
        _FUSION.api_prior,
        "Score multiplier for API entries (functions, classes, Sphinx objects) in ranking.",
    )
    abstain_below: float | None = _setting(
        None,
        "Answer confidence under which docsage abstains; unset = the calibrated value "
        "shipped in docsage/answer/calibration.json.",
    )
    # -- generative answers and agent mode ---------------------------------------------
    model: str = _setting(
        "extractive",
        "Answer model: 'extractive' (no LLM), 'openai:<model>' (any OpenAI-compatible "
        "/v1/chat/completions server) or 'llamacpp:<path.gguf>' (in process, the llamacpp "
        "extra).",
    )
    model_url: str = _setting(
        _CHAT.base_url,
        "Base URL of the OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server...).",
    )
    model_api_key: str = _setting("", "API key sent to the chat server, if any.")
    model_timeout_s: float = _setting(_CHAT.timeout_s, "Seconds before a chat request times out.")
    model_retries: int = _setting(
        _CHAT.retries,
        "Retries of a chat request on timeouts, dropped connections, 429 and 5xx only.",
    )
    model_context: int | None = _setting(
        None,
        "Context window of the answer model in tokens; unset = 8192 (openai:) or 4096 (llamacpp:).",
    )
    model_json_mode: JsonMode = _setting(
        _CHAT.json_mode,
        "How to ask for JSON: 'json_schema' (OpenAI, vLLM), 'json_object' (llama.cpp "
        "server grammar) or 'prompt' (instructions plus one repair retry).",
    )
    max_answer_tokens: int = _setting(512, "Most tokens a generated answer may use.")
    escalate_model: str = _setting(
        "", "Stronger model tried when the first model's answer fails verification; empty = none."
    )
    escalate_below: float = _setting(
        0.0, "Also escalate when the answer's confidence is under this (0 = only on verification)."
    )
    fallback_model: str = _setting(
        "extractive",
        "Answerer used when the models time out or answer 5xx: another model, 'extractive' "
        "or empty (fail).",
    )
    verify_action: Literal["remove", "mark"] = _setting(
        "remove",
        "What happens to a generated sentence its cited source does not support: 'remove' "
        "or 'mark' ([unverified]).",
    )
    support_threshold: float = _setting(
        DEFAULT_THRESHOLD,
        "Lexical support a generated sentence needs from the source it cites (0-1).",
    )
    agent_max_steps: int = _setting(_BUDGET.max_steps, "Most model calls in one agent run.")
    agent_max_tool_calls: int = _setting(
        _BUDGET.max_tool_calls, "Most tool calls in one agent run."
    )
    agent_max_tokens: int = _setting(
        _BUDGET.max_tokens, "Most model tokens (in + out) in one agent run."
    )
    agent_max_usd: float | None = _setting(
        _BUDGET.max_cost_usd, "Most USD one agent run may spend; unset = no limit."
    )
    agent_max_seconds: float = _setting(_BUDGET.max_seconds, "Longest one agent run may take.")
    # -- HTTP service (docsage serve) ---------------------------------------------------
    auth: bool = _setting(
        True,
        "Require an API key (docsage keys create) on /v1 routes. 'false' is for local "
        "development and is refused unless the server listens on a loopback address.",
    )
    ingest_root: str = _setting(
        "", "Folder under which POST /v1/ingest may read; empty = ingest over HTTP disabled."
    )
    mcp_allowed_hosts: str = _setting(
        "",
        "Comma-separated Host values /mcp accepts besides loopback (e.g. docs.example.com, or "
        "docs.example.com:* for any port); browser Origins must be one of the same hosts.",
    )
    max_body_bytes: int = _setting(65536, "Largest request body the service accepts (bytes).")
    max_question_chars: int = _setting(2000, "Longest question or chat message accepted.")
    capture_content: bool = _setting(
        True,
        "Record questions, answers and citations in the request log; 'false' keeps only "
        "the numbers (latency, tokens, cost, flags) for privacy.",
    )
    price_table: str = _setting(
        "",
        "JSON file of model prices {model: {input: USD per 1M tokens, output: ...}}; "
        "local models (extractive, onnx:*) cost 0.",
    )
    otlp_endpoint: str = _setting(
        "",
        "OTLP/HTTP traces endpoint (e.g. http://127.0.0.1:4318/v1/traces); empty = traces "
        "stay in the process.",
    )
    answer_cache_size: int = _setting(
        1024, "Answers kept per worker, keyed on question, collection and index version."
    )
    retrieval_cache_size: int = _setting(1024, "Search results kept per worker; 0 = off.")
    rate_limit_rpm: int | None = _setting(
        None, "Default requests per minute per API key (a key may override); unset = unlimited."
    )
    rate_limit_tpm: int | None = _setting(
        None, "Default model tokens per minute per API key; unset = unlimited."
    )
    budget_requests_day: int | None = _setting(
        None, "Default requests per UTC day per key; unset = no budget."
    )
    budget_tokens_day: int | None = _setting(
        None, "Default model tokens per UTC day per key; unset = no budget."
    )
    budget_tokens_month: int | None = _setting(
        None, "Default model tokens per UTC month per key; unset = no budget."
    )
    budget_usd_day: float | None = _setting(
        None, "Default USD per UTC day per key; unset = no budget."
    )
    budget_usd_month: float | None = _setting(
        None, "Default USD per UTC month per key; unset = no budget."
    )
    over_budget: Literal["search-only", "extractive", "reject"] = _setting(
        "search-only",
        "What a key over budget gets: 'search-only' (hits, no answer), 'extractive' "
        "(the extractive answerer instead of the model) or 'reject' (HTTP 429).",
    )
    request_timeout_s: float = _setting(
        30.0, "Longest a query may run before the service answers 504."
    )
    shutdown_grace_s: int = _setting(
        30, "Seconds docsage serve waits for in-flight requests on shutdown."
    )
    shutdown_delay_s: float = _setting(
        0.0,
        "Seconds docsage serve keeps serving after SIGTERM with /readyz answering 503, "
        "before it stops accepting connections: set it to your load balancer's probe interval.",
    )

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=False)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _DocsageEnv(settings_cls))

    @field_validator("home", mode="after")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def index_path(self) -> Path:
        """The SQLite file of the index and the tables kept beside it (ingest locks, eval
        runs, the service's keys and log): DOCSAGE_STORE's file when that is ``sqlite:``,
        else ``index.sqlite`` under DOCSAGE_HOME."""
        provider, _, location = (self.store or "").partition(":")
        if provider == "sqlite" and location:
            return Path(location).expanduser()
        return self.home / "index.sqlite"

    @property
    def store_name(self) -> str:
        """DOCSAGE_STORE, or the SQLite file under DOCSAGE_HOME when it is unset."""
        return self.store or f"sqlite:{self.index_path}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``DOCSAGE_<NAME>`` variables, then explicit overrides (None ones
        are ignored). A bad value is a ConfigError naming the variable and what it accepts."""
        given = {k: v for k, v in overrides.items() if v is not None}
        with _reading(os.environ if environ is None else environ):
            return checked(lambda: cls(**given))

    def but(self, **changes: Any) -> Settings:
        """A copy with ``changes``, checked like any other settings."""
        return checked(lambda: type(self)(**{**self.model_dump(), **changes}))


@contextmanager
def _reading(environ: Mapping[str, str]) -> Iterator[None]:
    token = _environ.set(environ)
    try:
        yield
    finally:
        _environ.reset(token)


def checked(make: Any) -> Settings:
    """``make()``, with pydantic's validation errors as one ConfigError in DOCSAGE_ terms."""
    try:
        settings: Settings = make()
    except ValidationError as exc:
        reasons = []
        for error in exc.errors()[:5]:
            name = PREFIX + str(error["loc"][0]).upper() if error["loc"] else "settings"
            given = error.get("input")
            shown = f"={given!r}" if isinstance(given, str | int | float) else ""
            reasons.append(f"{name}{shown}: {error['msg']}")
        raise ConfigError("invalid setting: " + "; ".join(reasons)) from None
    return settings


def describe() -> list[tuple[str, str, str]]:
    """(environment variable, default, help) for every setting, for docs and ``--help``."""
    return [
        (PREFIX + name.upper(), str(info.default), str(info.description))
        for name, info in Settings.model_fields.items()
    ]
