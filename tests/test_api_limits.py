"""Documented limits agree with what a real ``docsage serve`` does."""

from __future__ import annotations

from collections.abc import Iterator

from test_api_support import Server, server

__all__ = ["server"]


def test_question_over_the_configured_limit_is_422(server: Server) -> None:
    response = server.post("alpha", "/v1/ask", {"question": "x" * 2001, "collection": "alpha"})
    assert response.status_code == 422
    assert response.json()["error"]["type"] == "invalid_request"
    assert "DOCSAGE_MAX_QUESTION_CHARS" in response.json()["error"]["message"]


def test_chunked_body_over_the_limit_is_413(server: Server) -> None:
    def pieces() -> Iterator[bytes]:
        for _ in range(200):
            yield b" " * 1000  # no Content-Length: the server must count as it reads

    with server.client("alpha") as c:
        response = c.post("/v1/ask", content=pieces(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "payload_too_large"
        assert c.get("/healthz").status_code == 200  # the connection is still usable


def test_numbers_and_flags_are_not_coerced(server: Server) -> None:
    for k in ("5", True, 5.5):
        body = {"query": "backoff", "collection": "alpha", "k": k}
        response = server.post("alpha", "/v1/search", body)
        assert response.status_code == 422, k
        assert "k" in response.json()["error"]["message"]
    flag = {"question": "hi", "collection": "alpha", "options": {"agent": "yes"}}
    assert server.post("alpha", "/v1/ask", flag).status_code == 422
    for k in (5, 5.0):  # 5.0 is an integer in JSON Schema, which the OpenAPI spec speaks
        ok = server.post("alpha", "/v1/search", {"query": "backoff", "collection": "alpha", "k": k})
        assert ok.status_code == 200 and len(ok.json()["hits"]) <= 5
