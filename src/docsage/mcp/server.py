"""The MCP server: four tools and a resource template over ``docsage.mcp.tools``.

Who is calling comes from the transport: over stdio it is the local user given to
``build`` (or the key passed to ``docsage mcp --key``); over HTTP it is the principal that
``docsage.mcp.http`` authenticated from the request's bearer key and put in its scope."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from docsage.errors import AuthError, DocsageError
from docsage.mcp import tools
from docsage.mcp.budget import DEFAULT_TOKENS, MAX_TOKENS
from docsage.mcp.models import (
    UNTRUSTED,
    AskResult,
    CollectionsResult,
    SearchResult,
    SectionResult,
)
from docsage.mcp.sections import URI_TEMPLATE
from docsage.service.core import Principal, Service
from docsage.service.offload import run
from docsage.service.status import status_of

T = TypeVar("T")
PRINCIPAL = "docsage.principal"
"""The key of the caller's ``Principal`` in an HTTP request's ``scope["state"]``."""

INSTRUCTIONS = (
    "docsage answers from one project's own indexed docs and code. Use search_docs to find "
    "sections, read_section to read one in full (follow previous/next to continue), "
    "ask_docs for a cited answer (it says when the docs do not cover a question: do not "
    "guess then), list_collections to see what you may read. " + UNTRUSTED
)
_BUDGET = f"Result size cap in tokens (default {DEFAULT_TOKENS}, at most {MAX_TOKENS})."
_COLLECTION = "Collection to use; omit for the default or your only one (see list_collections)."
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Query = Annotated[str, Field(description="What to look for, in the words the docs would use.")]
Collection = Annotated[str | None, Field(description=_COLLECTION)]
Path = Annotated[
    str, Field(max_length=512, description="Only sources whose path starts with this.")
]
Budget = Annotated[int, Field(description=_BUDGET)]
SectionRef = Annotated[
    str, Field(description="'source#anchor' from a search or ask result, or its docsage:// uri.")
]
Question = Annotated[str, Field(description="A question about the project, in full.")]


def describe(exc: DocsageError) -> str:
    """``kind (HTTP status): message``: the REST API's error, as a tool's error text."""
    status, kind = status_of(exc)
    return f"{kind} ({status}): {exc}"


def caller(ctx: Context, local: Principal | None) -> Principal:
    request = ctx.request_context.request
    if request is None and local is not None:
        return local
    state = getattr(request, "scope", {}).get("state") or {}
    who = state.get(PRINCIPAL)
    if not isinstance(who, Principal):
        raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
    return who


def _server() -> MCPServer:
    """A bare MCPServer. Its constructor configures the root logger (``basicConfig``);
    the process's logging is the host's (uvicorn's, the CLI's), so that is undone."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        return MCPServer("docsage", instructions=INSTRUCTIONS, log_level="WARNING")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def build(svc: Service, local: Principal | None = None) -> MCPServer:
    """The server over ``svc``; ``local`` is who a stdio caller is (None over HTTP)."""
    server = _server()

    async def call(ctx: Context, fn: Callable[[Principal], T]) -> T:
        who = caller(ctx, local)
        return await run(svc, lambda: fn(who))

    _tools(server, svc, call)
    _resources(server, svc, call)
    return server


Call = Callable[[Context, Callable[[Principal], Any]], Awaitable[Any]]


async def _tool(call: Call, ctx: Context, fn: Callable[[Principal], T]) -> T:
    """A tool's work; a docsage error becomes the tool's error text (an observation for
    the agent, with the remedy), as the REST API would have answered it."""
    try:
        result: T = await call(ctx, fn)
    except DocsageError as exc:
        raise ToolError(describe(exc)) from exc
    except TimeoutError as exc:
        raise ToolError("timeout (504): the call took longer than the server allows") from exc
    return result


def _tools(server: MCPServer, svc: Service, call: Call) -> None:
    @server.tool(
        name="search_docs",
        title="Search the docs",
        annotations=_READ_ONLY,
        description="Search the project's docs (keywords and meaning) and return ranked "
        "sections: ref ('source#anchor'), title, heading path, line range and a short "
        "snippet. Read a hit in full with read_section(ref). " + UNTRUSTED,
    )
    async def search_docs(
        query: Query,
        ctx: Context,
        collection: Collection = None,
        path: Path = "",
        max_tokens: Budget = DEFAULT_TOKENS,
    ) -> SearchResult:
        return await _tool(
            call, ctx, lambda who: tools.search(svc, who, query, collection, path, max_tokens)
        )

    @server.tool(
        name="read_section",
        title="Read a section",
        annotations=_READ_ONLY,
        description="Read one section of the docs in full, by the ref a search or answer "
        "gave, with the refs of the sections before and after it (previous/next) to read "
        "on. Only indexed sections of your collections can be read: no file paths or "
        "URLs. " + UNTRUSTED,
    )
    async def read_section(
        ref: SectionRef,
        ctx: Context,
        collection: Collection = None,
        max_tokens: Budget = DEFAULT_TOKENS,
    ) -> SectionResult:
        return await _tool(call, ctx, lambda who: tools.read(svc, who, ref, collection, max_tokens))

    @server.tool(
        name="ask_docs",
        title="Ask the docs",
        annotations=_READ_ONLY,
        description="Answer a question from the docs with numbered citations whose refs "
        "read_section can open, checked against the cited text. When the docs do not cover "
        "it, answered is false and closest_sources lists the nearest sections: it never "
        "guesses. " + UNTRUSTED,
    )
    async def ask_docs(
        question: Question,
        ctx: Context,
        collection: Collection = None,
        max_tokens: Budget = DEFAULT_TOKENS,
    ) -> AskResult:
        return await _tool(
            call, ctx, lambda who: tools.ask(svc, who, question, collection, max_tokens)
        )

    @server.tool(
        name="list_collections",
        title="List collections",
        annotations=_READ_ONLY,
        description="The doc collections you may read, with their sizes (documents, "
        "chunks) and when each was last indexed.",
    )
    async def list_collections(
        ctx: Context, max_tokens: Budget = DEFAULT_TOKENS
    ) -> CollectionsResult:
        return await _tool(call, ctx, lambda who: tools.collections(svc, who, max_tokens))


def _resources(server: MCPServer, svc: Service, call: Call) -> None:
    @server.resource(
        URI_TEMPLATE,
        name="section",
        title="A section of the docs",
        description="One indexed section as JSON (read_section's result). " + UNTRUSTED,
        mime_type="application/json",
    )
    async def section(collection: str, source: str, anchor: str, ctx: Context) -> str:
        ref = f"{source}#{anchor}" if anchor else source

        def work(who: Principal) -> str:
            result = tools.read(svc, who, ref, collection, DEFAULT_TOKENS)
            return result.model_dump_json()

        try:
            text: str = await call(ctx, work)
        except DocsageError as exc:
            raise ResourceError(describe(exc)) from exc
        return text
