"""Tests may not reach outside the machine: pytest-socket (configured in pyproject.toml)
refuses any connection except unix sockets and loopback hosts. It also warns, and the suite
turns warnings into errors, so the tests expect both."""

from __future__ import annotations

import socket

import httpx
import pytest
from pytest_socket import SocketConnectBlockedError

from test_api_support import free_port


def warned() -> pytest.WarningsRecorder:
    return pytest.warns(UserWarning, match="tried to use socket")


def test_a_connection_to_an_outside_host_is_refused() -> None:
    # An address literal, so the refusal is the socket guard's and not a DNS failure.
    with warned(), pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_an_http_client_cannot_reach_outside_either() -> None:
    with warned(), pytest.raises(SocketConnectBlockedError):
        httpx.get("http://93.184.216.34/", timeout=1)


def test_loopback_is_allowed() -> None:
    with socket.create_server(("127.0.0.1", free_port())) as listener:
        host, port = listener.getsockname()
        with socket.create_connection((host, port), timeout=1) as client:
            peer, _ = listener.accept()
            client.sendall(b"ping")
            assert peer.recv(4) == b"ping"
            peer.close()
