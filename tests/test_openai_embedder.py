"""The OpenAI-compatible embeddings adapter against a real HTTP server on loopback.

The server is a stand-in written for this test (real sockets and HTTP, vectors from the
HashEmbedder fake): vLLM, Ollama or OpenAI cannot run here. It can be told to fail the next
requests with a status, or to stall, so retries and timeouts are exercised for real.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from docsage.errors import ModelError
from docsage.models.fake import HashEmbedder
from docsage.models.openai import OpenAIEmbedder
from loopback import JsonHandler, LoopbackServer, serving


class FakeEmbeddingsServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.fail_with: list[int] = []
        self.stall_s = 0.0
        self.requests: list[dict[str, Any]] = []
        self.embedder = HashEmbedder()


class _Handler(JsonHandler):
    server: FakeEmbeddingsServer

    def do_POST(self) -> None:
        body = self.read_json()
        self.server.requests.append(
            {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
        )
        time.sleep(self.server.stall_s)
        if self.server.fail_with:
            self.send_json(self.server.fail_with.pop(0), {"error": {"message": "model is loading"}})
            return
        vectors = self.server.embedder.embed(body["input"])
        data = [{"index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)][::-1]
        self.send_json(200, {"data": data, "model": body["model"]})


@pytest.fixture()
def server() -> Iterator[FakeEmbeddingsServer]:
    with serving(FakeEmbeddingsServer()) as srv:
        yield srv


def test_vectors_come_back_in_input_order_normalised_and_batched(
    server: FakeEmbeddingsServer,
) -> None:
    embedder = OpenAIEmbedder("text-embed", base_url=server.url, api_key="sk-test", batch_size=2)
    texts = ["os.path.join joins paths", "read a csv file", "parse json"]
    vectors = embedder.embed(texts)
    expected = HashEmbedder().embed(texts)
    assert np.allclose(vectors, expected, atol=1e-6)  # the server answers in reverse order
    assert [len(r["body"]["input"]) for r in server.requests] == [2, 1]
    assert server.requests[0]["path"] == "/v1/embeddings"
    assert server.requests[0]["auth"] == "Bearer sk-test"
    assert embedder.name == "openai:text-embed" and embedder.dim == 64


def test_transient_errors_are_retried_then_succeed(server: FakeEmbeddingsServer) -> None:
    server.fail_with = [503, 429]
    embedder = OpenAIEmbedder("m", base_url=server.url, retries=2)
    assert embedder.embed(["x"]).shape == (1, 64)
    assert len(server.requests) == 3


def test_a_client_error_fails_at_once_with_the_servers_reason(server: FakeEmbeddingsServer) -> None:
    server.fail_with = [400]
    embedder = OpenAIEmbedder("m", base_url=server.url, retries=3)
    with pytest.raises(ModelError, match=r"400.*model is loading"):
        embedder.embed(["x"])
    assert len(server.requests) == 1


def test_retries_give_up_after_the_limit(server: FakeEmbeddingsServer) -> None:
    server.fail_with = [503, 503, 503]
    with pytest.raises(ModelError, match="503"):
        OpenAIEmbedder("m", base_url=server.url, retries=1).embed(["x"])
    assert len(server.requests) == 2


def test_a_stalled_server_times_out(server: FakeEmbeddingsServer) -> None:
    server.stall_s = 1.0
    embedder = OpenAIEmbedder("m", base_url=server.url, timeout_s=0.2, retries=0)
    with pytest.raises(ModelError, match="did not answer"):
        embedder.embed(["x"])


def test_an_unreachable_server_is_a_model_error() -> None:
    embedder = OpenAIEmbedder("m", base_url="http://127.0.0.1:9/v1", timeout_s=0.5, retries=0)
    with pytest.raises(ModelError, match="unreachable"):
        embedder.embed(["x"])


def test_a_dimension_change_is_refused(server: FakeEmbeddingsServer) -> None:
    embedder = OpenAIEmbedder("m", base_url=server.url, dim=384)
    with pytest.raises(ModelError, match="384"):
        embedder.embed(["x"])
