"""The adapters settings name: stores, embedders, chat models and rerankers.

Each kind is a ``docsage.registry.Registry``: a built-in table of lazy ``"module:attr"``
references (importing this module imports no adapter), which other packages extend or
override through an entry point group. Parsers, which ingest picks per file, have theirs in
``docsage.ingest.parsers.registry``.

- store: group ``docsage.stores``, ``sqlite:<path>``; factory ``(location: str) -> Store``
- embedder: ``docsage.embedders``, ``onnx:<model>``, ``openai:<model>``, ``fake:<any>``;
  ``(model: str, config: EmbedderConfig) -> Embedder``
- chat model: ``docsage.chat_models``, ``openai:<model>``, ``llamacpp:<path.gguf>``,
  ``fake:<name>``; ``(model: str, config: ChatModelConfig) -> ChatModel``
- reranker: ``docsage.rerankers``, ``identifier``; ``() -> Reranker``

A provider's entry gets the rest of the name (``sqlite:/srv/i.sqlite`` -> ``"/srv/i.sqlite"``)
and the typed config ``app.py`` builds from settings; ``none`` (embedder, reranker) and
``extractive`` (chat model) name no adapter.
"""

from __future__ import annotations

from collections.abc import Callable

from docsage.models.chat import ChatModelConfig
from docsage.ports import Embedder, EmbedderConfig, Reranker, Store
from docsage.ports.chat import ChatModel
from docsage.registry import Registry

StoreFactory = Callable[[str], Store]
EmbedderFactory = Callable[[str, EmbedderConfig], Embedder]
ChatModelFactory = Callable[[str, ChatModelConfig], ChatModel]
RerankerFactory = Callable[[], Reranker]

STORES: Registry[StoreFactory] = Registry(
    "store", "docsage.stores", {"sqlite": "docsage.store.sqlite:open_store"}, rest="<path>"
)
EMBEDDERS: Registry[EmbedderFactory] = Registry(
    "embedder",
    "docsage.embedders",
    {
        "onnx": "docsage.models.onnx:embedder",
        "openai": "docsage.models.openai:embedder",
        "fake": "docsage.models.fake:hash_embedder",
    },
    rest="<model>",
    off=("none",),
)
CHAT_MODELS: Registry[ChatModelFactory] = Registry(
    "chat model",
    "docsage.chat_models",
    {
        "openai": "docsage.models.openai_chat:chat_model",
        "llamacpp": "docsage.models.llamacpp:chat_model",
        "fake": "docsage.models.fake:echo_chat_model",
    },
    rest="<model>",
    off=("extractive", ""),
)
RERANKERS: Registry[RerankerFactory] = Registry(
    "reranker",
    "docsage.rerankers",
    {"identifier": "docsage.rerank:IdentifierReranker"},
    off=("none",),
)


def make_store(spec: str) -> Store:
    """The store named by ``spec`` (``sqlite:<path>``, or a plugin's name)."""
    found = STORES.resolve(spec)
    assert found is not None, "stores have no 'off' name"
    return found[0](found[1])


def make_embedder(spec: str, config: EmbedderConfig | None = None) -> Embedder | None:
    """The embedder named by ``spec``; None for ``none``."""
    found = EMBEDDERS.resolve(spec)
    return None if found is None else found[0](found[1], config or EmbedderConfig())


def make_chat_model(spec: str, config: ChatModelConfig | None = None) -> ChatModel | None:
    """The chat model named by ``spec``; None for ``extractive`` (no model)."""
    found = CHAT_MODELS.resolve(spec)
    return None if found is None else found[0](found[1], config or ChatModelConfig())


def make_reranker(name: str) -> Reranker | None:
    """The reranker named ``name``; None for ``none``."""
    found = RERANKERS.resolve(name)
    return None if found is None else found[0]()
