"""Embedders by name: ``"<provider>:<model>"``. Add a provider by adding a factory here."""

from __future__ import annotations

from collections.abc import Callable

from docsage.errors import ConfigError
from docsage.ports import Embedder

EmbedderFactory = Callable[[str, dict[str, object]], Embedder]


def _onnx(model: str, options: dict[str, object]) -> Embedder:
    from docsage.models.onnx import OnnxMiniLM

    if model not in {"all-MiniLM-L6-v2", ""}:
        raise ConfigError(f"the local ONNX embedder ships only all-MiniLM-L6-v2, not {model!r}")
    threads = options.get("threads")
    return OnnxMiniLM(threads=int(threads) if isinstance(threads, int) and threads else None)


def _openai(model: str, options: dict[str, object]) -> Embedder:
    from docsage.models.openai import OpenAIEmbedder

    return OpenAIEmbedder(
        model, base_url=str(options.get("base_url", "")), api_key=str(options.get("api_key", ""))
    )


def _fake(model: str, options: dict[str, object]) -> Embedder:
    from docsage.models.fake import HashEmbedder

    return HashEmbedder()


EMBEDDERS: dict[str, EmbedderFactory] = {"onnx": _onnx, "openai": _openai, "fake": _fake}


def make_embedder(spec: str, options: dict[str, object] | None = None) -> Embedder | None:
    """The embedder named by ``spec``, or None for ``"none"``."""
    if spec == "none":
        return None
    provider, _, model = spec.partition(":")
    factory = EMBEDDERS.get(provider)
    if factory is None:
        known = ", ".join(sorted(EMBEDDERS))
        raise ConfigError(f"unknown embedder {spec!r}; use one of: {known}, or 'none'")
    return factory(model, options or {})
