"""``docsage mcp``: MCP over stdio for a local agent (``docsage.mcp``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docsage.app import prepare_index
from docsage.errors import missing_extra
from docsage.settings import Settings


def mcp(
    home: Annotated[
        Path | None, typer.Option(help="Index folder (default: $DOCSAGE_HOME).")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            envvar="DOCSAGE_API_KEY",
            help="Act as this API key (its collections, scopes and limits); default: the "
            "local user, who reads every collection.",
        ),
    ] = None,
) -> None:
    """Serve the docs to an agent over MCP on stdin/stdout (tools search_docs,
    read_section, ask_docs, list_collections). Example: claude mcp add docsage -- docsage mcp"""
    try:
        from docsage.mcp.stdio import serve_stdio
    except ImportError as exc:
        raise missing_extra("mcp", 'pip install "docsage[serve]"') from exc
    settings = Settings.from_env(home=home)
    prepare_index(settings)
    serve_stdio(settings, key)
