"""``docsage`` commands. Each is a few lines over ``docsage.app.Docsage``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from docsage.app import Docsage
from docsage.cli import render
from docsage.cli.demo import demo
from docsage.cli.eval_cmd import eval_app
from docsage.cli.export_cmd import export_app
from docsage.cli.keys_cmd import keys_app
from docsage.cli.mcp_cmd import mcp
from docsage.cli.report_cmd import report
from docsage.cli.serve_cmd import serve
from docsage.cli.tune_cmd import tune
from docsage.errors import DocsageError, UsageError
from docsage.retrieve import MODES, Mode
from docsage.settings import Settings, describe

app = typer.Typer(
    help="Cited answers from a project's own docs and code, offline by default.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(eval_app, name="eval")
app.add_typer(keys_app, name="keys")
app.add_typer(export_app, name="export")
app.command("serve")(serve)
app.command("mcp")(mcp)
app.command("report")(report)
app.command("demo")(demo)
app.command("tune")(tune)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Index folder (default: $DOCSAGE_HOME or ~/.docsage)."),
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Collection name (default: 'default').")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _open(home: Path | None) -> Docsage:
    return Docsage(Settings.from_env(home=home))


@contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C ends an ingest with a message and status 130, not a traceback. What it leaves
    is consistent: the text is one transaction and vectors commit per batch, and the ingest
    lock is released on the way out."""
    try:
        yield
    except KeyboardInterrupt:
        render.err_console.print(
            "interrupted: the index keeps what was committed; run the command again to resume"
        )
        raise typer.Exit(130) from None


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="Folder of docs and code to ingest.")],
    collection: CollectionOpt = None,
    home: HomeOpt = None,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Extra gitignore-style pattern.")
    ] = None,
    no_default_ignores: Annotated[
        bool, typer.Option("--no-default-ignores", help="Do not apply the built-in ignores.")
    ] = False,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Index text only; run `docsage embed` later.")
    ] = False,
    embed_seconds: Annotated[
        float | None, typer.Option(help="Stop embedding after this many seconds.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Make PATH the collection's source even if it came from another folder "
            "(removes its documents that are not in PATH).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Ingest (or re-ingest, incrementally) a folder into a collection.

    A collection has one source folder; another folder is refused unless --replace is given,
    and so is a second ingest of a collection while one is running."""
    with _open(home) as ds, render.progress_bars(not quiet) as progress, _interruptible():
        report = ds.ingest(
            path,
            collection=collection,
            ignore=tuple(ignore or ()),
            use_default_ignores=not no_default_ignores,
            embed=not no_embed,
            embed_seconds=embed_seconds,
            replace_source=replace,
            progress=progress,
        )
    render.print_report(report)


@app.command()
def embed(collection: CollectionOpt = None, home: HomeOpt = None) -> None:
    """Embed the chunks that have no vector yet (after --no-embed or an interrupted run)."""
    with _open(home) as ds, render.progress_bars(True) as progress:
        done, missing = ds.embed_pending(collection=collection, progress=progress)
    render.console.print(f"Embedded {done} chunks; {missing} still missing.")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Number of hits.")] = 10,
    mode: Annotated[str, typer.Option(help=f"One of {', '.join(MODES)}.")] = "hybrid",
    path: Annotated[str, typer.Option("--path", help="Only sources under this prefix.")] = "",
    collection: CollectionOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Hybrid (lexical + dense) search with provenance for every hit."""
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    chosen: Mode = mode
    with _open(home) as ds:
        result = ds.search(query, collection=collection, k=k, mode=chosen, path_prefix=path)
    if as_json:
        typer.echo(render.search_json(query, result))
    else:
        render.print_hits(result)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the docs.")],
    path: Annotated[str, typer.Option("--path", help="Only sources under this prefix.")] = "",
    collection: CollectionOpt = None,
    home: HomeOpt = None,
    as_json: JsonOpt = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="'extractive', 'openai:<model>' or 'llamacpp:<path.gguf>' "
            "(default: $DOCSAGE_MODEL)."
        ),
    ] = None,
    agent: Annotated[
        bool, typer.Option("--agent", help="Let the model search and read the docs with tools.")
    ] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print the verified answer as it is generated.")
    ] = False,
    trace: Annotated[
        bool, typer.Option("--trace", help="Print every model and tool call with its cost.")
    ] = False,
) -> None:
    """Answer from the docs with numbered citations, or say the docs don't cover it."""
    on_token = render.stream_printer() if stream and not as_json else None
    with _open(home) as ds:
        answer = ds.ask(
            question,
            collection=collection,
            path_prefix=path,
            model=model,
            agent=agent,
            on_token=on_token,
        )
    if as_json:
        typer.echo(render.answer_json(answer))
        return
    render.print_answer(answer, streamed=on_token is not None)
    if trace:
        render.print_trace(answer)


@app.command()
def collections(home: HomeOpt = None) -> None:
    """List collections with their sizes and index versions."""
    with _open(home) as ds:
        infos = ds.collections()
    if not infos:
        render.console.print("No collections yet: docsage ingest PATH --collection NAME")
    for info in infos:
        render.console.print(
            f"{info.name}: {info.documents} documents, {info.chunks} chunks, "
            f"index v{info.index_version}"
        )


@app.command()
def settings() -> None:
    """Show every setting, its environment variable and default."""
    for env, default, help_text in describe():
        render.console.print(f"[bold]{env}[/] = {default}\n    {help_text}")


def main() -> None:
    try:
        app()
    except DocsageError as exc:
        # The message is text, not markup: "pip install 'docsage[tune]'" keeps its brackets.
        render.err_console.print(f"[red]error:[/] {escape(str(exc))}")
        sys.exit(2 if isinstance(exc, UsageError) else 1)
