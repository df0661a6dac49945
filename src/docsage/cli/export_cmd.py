"""``docsage export``: a collection in formats other tools read (llms.txt)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from docsage.app import Docsage
from docsage.cli import llms_txt, render
from docsage.errors import NotFoundError
from docsage.settings import Settings
from docsage.types import Chunk

export_app = typer.Typer(help="Export a collection.", no_args_is_help=True)


@export_app.command("llms-txt")
def export_llms_txt(
    collection: Annotated[str, typer.Option("--collection", "-c", help="Collection name.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for llms.txt and llms-full.txt.")
    ] = Path(),
    base_url: Annotated[
        str, typer.Option(help="Web address the sources are published under (default: paths).")
    ] = "",
    title: Annotated[
        str | None, typer.Option(help="The llms.txt heading (default: the collection name).")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="Index folder (default: $DOCSAGE_HOME).")
    ] = None,
) -> None:
    """Write llms.txt (an index of the collection's documents, llmstxt.org format) and
    llms-full.txt (their full text) into OUT."""
    with Docsage(Settings.from_env(home=home)) as ds:
        if ds.store.index_version(collection) == 0:
            known = ", ".join(c.name for c in ds.collections()) or "none yet"
            raise NotFoundError(f"no collection named {collection!r} (known: {known})")
        name = collection
        docs: dict[str, list[Chunk]] = {
            source: ds.store.chunks(name, source) for source in sorted(ds.store.documents(name))
        }
    heading = title or name
    out.mkdir(parents=True, exist_ok=True)
    (out / "llms.txt").write_text(llms_txt.index(name, docs, base_url, heading), encoding="utf-8")
    (out / "llms-full.txt").write_text(
        llms_txt.full(name, docs, base_url, heading), encoding="utf-8"
    )
    render.console.print(
        f"Wrote {out / 'llms.txt'} and {out / 'llms-full.txt'} ({len(docs)} documents)"
    )
