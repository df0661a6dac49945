"""One registry for stores, embedders, chat models, rerankers and parsers: names settings use,
built-ins as lazy references, third-party entries through real ``importlib.metadata`` entry
points (a dist-info folder on ``sys.path``), and the settings that pick a store and a
reranker."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from docsage import registry
from docsage.adapters import (
    CHAT_MODELS,
    EMBEDDERS,
    RERANKERS,
    STORES,
    make_chat_model,
    make_embedder,
    make_reranker,
    make_store,
)
from docsage.app import Docsage
from docsage.errors import ConfigError
from docsage.ingest.parsers import text
from docsage.ingest.parsers.registry import PARSERS, parser_for
from docsage.models.chat import ChatModelConfig
from docsage.models.fake import EchoChatModel, HashEmbedder
from docsage.ports import EmbedderConfig
from docsage.ports.chat import ChatModel
from docsage.rerank import IdentifierReranker
from docsage.settings import Settings

PLUGIN = "docsage_fake_plugin"
PLUGIN_SOURCE = '''
from docsage.ingest.parsers import text
from docsage.models.chat import ChatModelConfig
from docsage.ports.chat import ChatModel
from docsage.models.fake import EchoChatModel, HashEmbedder


class Reverse:
    """A reranker: the fused list, backwards."""

    def rerank(self, query, hits):
        return list(reversed(hits))


def embedder(model, config):
    return HashEmbedder(dim=int(model), name=config.api_key)


def parse(source):
    return text.parse(source)
'''
ENTRY_POINTS = f"""
[docsage.rerankers]
reverse = {PLUGIN}:Reverse
broken = {PLUGIN}_missing:Nothing

[docsage.embedders]
hashed = {PLUGIN}:embedder

[docsage.parsers]
.adoc = {PLUGIN}:parse
.txt = {PLUGIN}:parse
"""


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """An installed distribution, as pip leaves one: a module and its dist-info."""
    site = tmp_path / "site"
    info = site / f"{PLUGIN}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{PLUGIN}.py").write_text(PLUGIN_SOURCE)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {PLUGIN}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(site))
    registry.refresh()
    yield __import__(PLUGIN)
    sys.modules.pop(PLUGIN, None)
    registry.refresh()  # monkeypatch restores sys.path after this; the next lookup reads it


def test_unknown_names_fail_listing_the_valid_ones() -> None:
    cases = [
        (
            lambda: make_store("mysql://db"),
            "unknown store 'mysql://db'; use one of: 'sqlite:<path>'",
        ),
        (
            lambda: make_embedder("bert"),
            "unknown embedder 'bert'; use one of: 'fake:<model>', 'onnx:<model>', "
            "'openai:<model>', 'none'",
        ),
        (
            lambda: make_chat_model("gpt-4o"),
            "unknown chat model 'gpt-4o'; use one of: 'fake:<model>', 'llamacpp:<model>', "
            "'openai:<model>', 'extractive'",
        ),
        (
            lambda: make_reranker("bm25"),
            "unknown reranker 'bm25'; use one of: 'identifier', 'none'",
        ),
        (lambda: PARSERS.get(".adoc"), "unknown parser '.adoc'; use one of: '.htm', '.html', "),
    ]
    for make, message in cases:
        with pytest.raises(ConfigError) as caught:
            make()
        assert str(caught.value).startswith(message)


def test_built_in_names_resolve_and_off_names_mean_no_adapter(tmp_path: Path) -> None:
    assert isinstance(make_embedder("fake:any"), HashEmbedder)
    assert isinstance(make_reranker("identifier"), IdentifierReranker)
    assert make_embedder("none") is None and make_reranker("none") is None
    assert make_chat_model("extractive") is None and make_chat_model("") is None
    store = make_store(f"sqlite:{tmp_path / 'x.sqlite'}")
    store.close()
    assert (tmp_path / "x.sqlite").is_file()
    assert [STORES.kind, EMBEDDERS.kind, CHAT_MODELS.kind, RERANKERS.kind, PARSERS.kind] == [
        "store",
        "embedder",
        "chat model",
        "reranker",
        "parser",
    ]


def test_a_third_party_entry_point_adds_and_overrides_names(plugin: ModuleType) -> None:
    assert "reverse" in RERANKERS.names() and "hashed" in EMBEDDERS.names()
    reranker = make_reranker("reverse")
    assert type(reranker).__name__ == "Reverse" and reranker is not None
    made = make_embedder("hashed:16", EmbedderConfig(api_key="from-config"))
    assert isinstance(made, HashEmbedder) and (made.dim, made.name) == (16, "from-config")
    parse = plugin.parse
    assert parser_for("guide.adoc") is parse
    assert parser_for("notes.txt") is parse and parser_for("README") is parse  # overridden
    assert parser_for("a.md") is not None and parser_for("a.png") is None
    with pytest.raises(ConfigError, match=r"'reverse'"):  # listed with the built-ins
        make_reranker("bm25")
    with pytest.raises(ConfigError, match=r"reranker 'broken' \(.*_missing:Nothing\) could not"):
        make_reranker("broken")


def test_without_the_plugin_its_names_are_gone(plugin: ModuleType) -> None:
    sys.path.remove(str(Path(plugin.__file__).parent))
    registry.refresh()
    assert "reverse" not in RERANKERS.names()
    assert parser_for("README") is text.parse


def test_a_name_added_in_process_wins_until_removed() -> None:
    def scripted(model: str, config: ChatModelConfig) -> ChatModel:
        return EchoChatModel(name="scripted")

    CHAT_MODELS.add("fake", scripted)
    try:
        assert CHAT_MODELS.get("fake") is scripted
        made = make_chat_model("fake:x")
        assert made is not None and made.name == "scripted"
    finally:
        CHAT_MODELS.remove("fake")
    assert CHAT_MODELS.get("fake").__name__ == "echo_chat_model"


def test_docsage_store_setting_chooses_the_index_file(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Retries\n\nSet max_retries to retry jobs.\n")
    other = tmp_path / "elsewhere" / "other.db"
    other.parent.mkdir()
    environ = {
        "DOCSAGE_HOME": str(tmp_path / "home"),
        "DOCSAGE_STORE": f"sqlite:{other}",
        "DOCSAGE_EMBEDDER": "none",
    }
    settings = Settings.from_env(environ)
    assert settings.index_path == other and settings.store_name == f"sqlite:{other}"
    with Docsage(settings) as ds:
        report = ds.ingest(tmp_path / "docs", collection="c")
        assert report.chunks_total > 0
        assert ds.search("max_retries", collection="c").hits
    with sqlite3.connect(other) as conn:
        assert conn.execute("SELECT source FROM documents").fetchall() == [("guide.md",)]
    assert not (tmp_path / "home" / "index.sqlite").exists()


def test_the_default_store_is_index_sqlite_under_home(tmp_path: Path) -> None:
    settings = Settings.from_env({"DOCSAGE_HOME": str(tmp_path)})
    assert settings.store is None
    assert settings.store_name == f"sqlite:{tmp_path / 'index.sqlite'}"


def test_docsage_reranker_setting(tmp_path: Path, plugin: ModuleType) -> None:
    home = {"DOCSAGE_HOME": str(tmp_path / "home"), "DOCSAGE_EMBEDDER": "none"}
    with Docsage(Settings.from_env({**home, "DOCSAGE_RERANKER": "none"})) as ds:
        assert ds.reranker is None and ds.retriever.reranker is None
    with Docsage(Settings.from_env(home)) as ds:
        assert isinstance(ds.retriever.reranker, IdentifierReranker)
    with Docsage(Settings.from_env({**home, "DOCSAGE_RERANKER": "reverse"})) as ds:
        assert type(ds.retriever.reranker).__name__ == "Reverse"
    with pytest.raises(ConfigError, match="unknown reranker 'cohere'"):
        Docsage(Settings.from_env({**home, "DOCSAGE_RERANKER": "cohere"}))


def test_the_old_rerank_switch_is_refused_with_its_replacement() -> None:
    with pytest.raises(ConfigError, match=r"DOCSAGE_RERANK is no longer read.*DOCSAGE_RERANKER"):
        Settings.from_env({"DOCSAGE_RERANK": "false"})


def test_importing_the_registries_imports_no_adapter() -> None:
    code = (
        "import json, sys\n"
        "import docsage.registry, docsage.adapters, docsage.ingest.parsers.registry\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(out.stdout))
    adapters = {
        "onnxruntime",
        "tokenizers",
        "httpx",
        "selectolax",
        "docutils",
        "docsage.models.onnx",
        "docsage.models.openai",
        "docsage.models.openai_chat",
        "docsage.models.llamacpp",
        "docsage.models.fake",
        "docsage.store.sqlite",
        "docsage.rerank",
        "docsage.ingest.parsers.markdown",
        "docsage.ingest.parsers.html",
    }
    assert loaded & adapters == set()
    assert {"docsage.registry", "docsage.adapters"} <= loaded
