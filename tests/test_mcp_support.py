"""Support for the MCP tests: a small two-tenant index built with the real ONNX embedder,
and the MCP SDK's own client over stdio (``docsage mcp`` as a subprocess) or over
Streamable HTTP (a real ``docsage serve`` on loopback)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from test_api_support import ALPHA, BETA, DOCSAGE, cli, new_key

T = TypeVar("T")

# Twelve ordinary sections and one long one (several chunks): enough for budgets to cut.
REFERENCE = (
    "# Tidepool reference\n\n"
    + "\n".join(
        f"## Setting number {i}\n\nThe queue setting number {i} controls the worker pool size "
        f"for tier {i}. " + "It is read once at start-up and applies to every job. " * 8 + "\n"
        for i in range(1, 13)
    )
    + "\n## Changelog\n\n"
    + "\n\n".join(
        f"Release 1.{i} fixed the scheduler, the retry counter and the lease renewal in "
        f"edge case {i}; " + "upgrading is safe and needs no migration. " * 6
        for i in range(60)
    )
    + "\n"
)


@dataclass
class Index:
    home: Path
    keys: dict[str, str]

    def env(self, **extra: str) -> dict[str, str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
        return full | {"DOCSAGE_HOME": str(self.home), **extra}


def build_index(base: Path) -> Index:
    home, root = base / "home", base / "root"
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    (root / "alpha" / "guide.md").write_text(ALPHA)
    (root / "alpha" / "reference.md").write_text(REFERENCE)
    (root / "beta" / "handbook.md").write_text(BETA)
    cli(home, "ingest", str(root / "alpha"), "-c", "alpha", "-q")
    cli(home, "ingest", str(root / "beta"), "-c", "beta", "-q")
    keys = {
        "alpha": new_key(home, "alpha", "--scopes", "ask", "--collections", "alpha"),
        "both": new_key(home, "both", "--scopes", "ask", "--collections", "alpha,beta"),
        "limited": new_key(home, "lim", "--collections", "alpha", "--rpm", "3"),
        "budget": new_key(home, "bud", "--collections", "alpha", "--requests-day", "1"),
    }
    return Index(home=home, keys=keys)


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return anyio.run(fn)


@asynccontextmanager
async def stdio(index: Index, *args: str, **env: str) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=str(DOCSAGE), args=["mcp", *args], env=index.env(**env))
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


@asynccontextmanager
async def http(url: str, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as session,
        Client(streamable_http_client(url + "/mcp", http_client=session)) as client,
    ):
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; fails the test if the tool failed."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    """The error text of a tool call that must fail."""
    result = await client.call_tool(tool, arguments)
    assert isinstance(result, CallToolResult)
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)
