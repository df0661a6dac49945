"""Every shipped embedder passes the Embedder contract unchanged: the local ONNX MiniLM (the
real model), the OpenAI-compatible adapter (against a stand-in server on loopback, which
answers its rows out of order), and the hashing fake the tests use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from docsage.models.fake import HashEmbedder
from docsage.models.onnx import OnnxMiniLM
from docsage.models.openai import OpenAIEmbedder
from docsage.ports import Embedder
from docsage.testing.embedder_contract import EmbedderContract
from loopback import serving
from test_openai_embedder import FakeEmbeddingsServer


@pytest.mark.slow  # loads the real model
class TestOnnxMiniLM(EmbedderContract):
    @pytest.fixture(scope="class")
    @classmethod
    def embedder(cls) -> Embedder:
        return OnnxMiniLM(batch_size=8)


class TestOpenAIEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Iterator[Embedder]:
        with serving(FakeEmbeddingsServer()) as server:
            adapter = OpenAIEmbedder("stand-in", base_url=server.url, batch_size=8)
            yield adapter
            adapter.close()


class TestHashEmbedder(EmbedderContract):
    @pytest.fixture
    def embedder(self) -> Embedder:
        return HashEmbedder()
