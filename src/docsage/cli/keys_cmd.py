"""``docsage keys create | list | revoke``: API keys for the HTTP service."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from docsage.app import open_service_stores
from docsage.cli import render
from docsage.errors import UsageError
from docsage.ports import ServiceStores
from docsage.service.keys import parse_list
from docsage.service.limits import check_overrides
from docsage.settings import Settings

keys_app = typer.Typer(help="API keys for docsage serve (stored as SHA-256 hashes).")
HomeOpt = Annotated[Path | None, typer.Option("--home", help="Index folder.")]
Limit = Annotated[
    str | None,
    typer.Option(help="Override the default: a number above 0, or 'none' to exempt this key."),
]


def _limit(name: str, given: str) -> float | None:
    if given.strip().lower() == "none":
        return None
    try:
        value = float(given)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise UsageError(
            f"--{name.replace('_', '-')} must be a number above 0 or 'none', not {given!r}"
        )
    return value


def _stores(home: Path | None) -> ServiceStores:
    return open_service_stores(Settings.from_env(home=home))


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what the key is for.")],
    scopes: Annotated[str, typer.Option(help="Comma-separated: ask, ingest, admin.")] = "ask",
    collections: Annotated[
        str, typer.Option(help="Comma-separated collections the key may read; '*' = all.")
    ] = "",
    rpm: Limit = None,
    tpm: Limit = None,
    requests_day: Limit = None,
    tokens_day: Limit = None,
    tokens_month: Limit = None,
    usd_day: Limit = None,
    usd_month: Limit = None,
    home: HomeOpt = None,
) -> None:
    """Create a key and print its secret (shown once, never stored)."""
    given = {
        "rpm": rpm,
        "tpm": tpm,
        "requests_day": requests_day,
        "tokens_day": tokens_day,
        "tokens_month": tokens_month,
        "usd_day": usd_day,
        "usd_month": usd_month,
    }
    limits = check_overrides({k: _limit(k, v) for k, v in given.items() if v is not None})
    with _stores(home) as stores:
        key, secret = stores.keys.create(name, parse_list(scopes), parse_list(collections), limits)
    render.console.print(f"Created {key.id} ({key.name}). Its secret, shown only now:")
    typer.echo(secret)


@keys_app.command("list")
def list_keys(
    home: HomeOpt = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List keys (never their secrets)."""
    with _stores(home) as stores:
        keys = stores.keys.list(include_revoked=revoked)
    if as_json:
        typer.echo(json.dumps([_key_json(k) for k in keys], indent=2))
        return
    for k in keys:
        state = " [red]revoked[/]" if k.revoked_at else ""
        render.console.print(
            f"{k.id}  {k.name}  {k.prefix}…  scopes={','.join(k.scopes)}  "
            f"collections={','.join(k.collections)}  limits={k.limits or '-'}{state}"
        )


def _key_json(k: object) -> dict[str, object]:
    from dataclasses import asdict, is_dataclass

    assert is_dataclass(k) and not isinstance(k, type)
    return asdict(k)


@keys_app.command("revoke")
def revoke(
    ref: Annotated[str, typer.Argument(help="Key id (or name, if unique).")],
    home: HomeOpt = None,
) -> None:
    """Revoke a key; requests with it get 401 from then on."""
    with _stores(home) as stores:
        key = stores.keys.revoke(ref)
    render.console.print(f"Revoked {key.id} ({key.name}).")
