"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, Ollama,
llama.cpp server, text-embeddings-inference).

Retries only named transient failures (timeouts, connection errors, 429 and 5xx gateway
statuses), with exponential backoff; everything else fails at once with the server's reason.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from docsage import deadline
from docsage.errors import (
    ConfigError,
    DeadlineExceeded,
    ModelError,
    ModelRejectedError,
    ModelTimeoutError,
    ModelUnavailableError,
)
from docsage.models.retry import call_with_retries, retry_after
from docsage.ports import EmbedderConfig, Vector

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def status_error(response: httpx.Response, who: str) -> ModelError | None:
    """The error a non-200 answer of a model server means (None for 200), for every
    OpenAI-compatible adapter: 408/504 a timeout, 429/5xx unavailable (with the server's
    ``Retry-After``), another 4xx a refused request (not worth retrying)."""
    status = response.status_code
    if status == 200:
        return None
    said = f"{who}: server answered {status}: {response.text[:300]}"
    if status in (408, 504):
        return ModelTimeoutError(said)
    if status in TRANSIENT_STATUS:
        return ModelUnavailableError(said, retry_after(response))
    if 400 <= status < 500:
        return ModelRejectedError(said)
    return ModelError(said)


def transport_error(
    exc: httpx.TransportError, who: str, timeout_s: float
) -> ModelError | DeadlineExceeded:
    """The error for a call that got no (complete) response: a timeout is not an
    unreachable server, and a timeout set by the request's deadline is not the model's."""
    if isinstance(exc, httpx.TimeoutException):
        if deadline.expired():
            return DeadlineExceeded(
                "the request ran past DOCSAGE_REQUEST_TIMEOUT_S while waiting for "
                f"{who}; the model call was cancelled"
            )
        return ModelTimeoutError(
            f"{who}: no answer within {timeout_s:g} s (it did not answer in time): {exc!r}"
        )
    return ModelUnavailableError(f"{who}: server unreachable: {exc!r}")


def http_client(
    base_url: str, api_key: str, timeout_s: float, transport: httpx.BaseTransport | None
) -> httpx.Client:
    """The client every OpenAI-compatible adapter uses: bearer key (if any), one timeout."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return httpx.Client(
        base_url=base_url.rstrip("/"), headers=headers, timeout=timeout_s, transport=transport
    )


class OpenAIEmbedder:
    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str = "",
        dim: int = 0,
        timeout_s: float = 30.0,
        retries: int = 2,
        batch_size: int = 64,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = f"openai:{model}"
        self.model = model
        self.dim = dim
        self.retries = retries
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        self._client = http_client(base_url, api_key, timeout_s, transport)

    def _post(self, texts: Sequence[str]) -> list[list[float]]:
        payload = {"model": self.model, "input": list(texts)}

        def attempt() -> list[list[float]]:
            timeout = deadline.clamp(self.timeout_s)
            try:
                response = self._client.post("/embeddings", json=payload, timeout=timeout)
            except httpx.TransportError as exc:
                raise transport_error(exc, "embedding server", timeout) from exc
            return self._parse(response)

        return call_with_retries(attempt, self.retries)

    @staticmethod
    def _parse(response: httpx.Response) -> list[list[float]]:
        failed = status_error(response, "embedding server")
        if failed is not None:
            raise failed
        try:
            data = sorted(response.json()["data"], key=lambda item: item["index"])
            return [item["embedding"] for item in data]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"embedding server sent an unexpected body: {exc!r}") from exc

    def embed(self, texts: Sequence[str]) -> Vector:
        if not texts:  # no request for nothing (and no reshape of an empty list)
            return np.zeros((0, self.dim), dtype=np.float32)
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            rows.extend(self._post(texts[start : start + self.batch_size]))
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
        if self.dim and matrix.shape[1] != self.dim:
            raise ModelError(f"expected {self.dim}-dimensional vectors, got {matrix.shape[1]}")
        self.dim = matrix.shape[1]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        normalised: Vector = matrix / np.maximum(norms, 1e-12)
        return normalised

    def close(self) -> None:
        self._client.close()


def embedder(model: str, config: EmbedderConfig) -> OpenAIEmbedder:
    """``openai:<model>``: any OpenAI-compatible ``/v1/embeddings`` server."""
    if not model:
        raise ConfigError("name the model: openai:<model>, e.g. openai:text-embedding-3-small")
    return OpenAIEmbedder(model, base_url=config.base_url, api_key=config.api_key)
