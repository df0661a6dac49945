"""The MCP front end's pure parts: token budgets, refs, and the llms.txt export (the
command run as a subprocess over a real index)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docsage.errors import UsageError
from docsage.mcp import budget
from docsage.mcp.models import Located
from docsage.mcp.sections import parse_ref, uri_of
from test_cli import run as docsage


def test_budget_defaults_and_clamps_with_a_note() -> None:
    assert budget.clamp(None) == budget.Budget(tokens=3000)
    assert budget.clamp(5000) == budget.Budget(tokens=5000)
    assert budget.clamp(10**6).tokens == 25000
    assert "max_tokens=1000000 was clamped to 25000" in budget.clamp(10**6).note
    assert budget.clamp(0).tokens == budget.MIN_TOKENS


def test_pack_keeps_whole_items_in_order() -> None:
    items = [
        Located(ref=f"s#{i}", collection="c", uri="u", title="t" * 100, heading_path=[])
        for i in range(10)
    ]
    size = budget.tokens_of(items[0])
    kept, omitted = budget.pack(items, size * 3 + size // 2)
    assert [i.ref for i in kept] == ["s#0", "s#1", "s#2"] and omitted == 7
    assert budget.pack(items, size - 1) == ([], 10)


def test_cut_text_ends_at_a_paragraph() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 30 for i in range(20))
    cut = budget.cut_text(text, 200)
    assert len(cut) <= 200 * 3.5 and text.startswith(cut)
    assert text[len(cut) : len(cut) + 2] == "\n\n"
    assert budget.cut_text("short", 200) == "short"


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "#x",
        "/etc/passwd",
        "../secret#a",
        "a/../../b#c",
        "~/.ssh/id_rsa",
        "C:\\x#y",
        "https://evil.example/x#y",
        "file:///etc/passwd",
    ],
)
def test_refs_that_are_not_sections_are_refused(ref: str) -> None:
    with pytest.raises(UsageError, match="not a section ref"):
        parse_ref(ref)


def test_refs_and_uris_round_trip() -> None:
    plain = parse_ref("docs/guide.md#retries")
    assert (plain.collection, plain.source, plain.anchor) == (None, "docs/guide.md", "retries")
    uri = uri_of("my docs", "a b/guide.md", "x/y")
    assert uri == "docsage://my%20docs/a%20b/guide.md#x%2Fy"
    back = parse_ref(uri)
    assert (back.collection, back.source, back.anchor) == ("my docs", "a b/guide.md", "x/y")
    with pytest.raises(UsageError):
        parse_ref("docsage://alpha/../index.sqlite#x")


GUIDE = """\
# Tidepool guide

Tidepool runs background jobs. It retries them.

## Retries

Set max_retries to control how often a failed job is attempted again.
"""
API = """\
# API reference

## connect

`connect(url)` opens a connection to the broker.
"""


def test_llms_txt_export(tmp_path: Path) -> None:
    root, home, out = tmp_path / "docs", tmp_path / "home", tmp_path / "out"
    (root / "api").mkdir(parents=True)
    (root / "guide.md").write_text(GUIDE)
    (root / "api" / "client.md").write_text(API)
    docsage(home, "ingest", str(root), "-c", "tide", "-q")
    docsage(
        home,
        "export",
        "llms-txt",
        "-c",
        "tide",
        "-o",
        str(out),
        "--base-url",
        "https://docs.example.com/",
        "--title",
        "Tidepool",
    )
    index = (out / "llms.txt").read_text()
    lines = index.splitlines()
    assert lines[0] == "# Tidepool"
    assert lines[2] == "> The tide documentation: 2 documents, 4 sections."
    assert [ln for ln in lines if ln.startswith("## ")] == ["## Docs", "## api"]
    links = [ln for ln in lines if ln.startswith("- ")]
    assert links == [
        "- [Tidepool guide](https://docs.example.com/guide.md): Tidepool runs background jobs.",
        "- [API reference](https://docs.example.com/api/client.md): connect(url) opens a "
        "connection to the broker.",
    ]
    assert all(re.fullmatch(r"- \[[^\]]+\]\([^)]+\)(: .+)?", ln) for ln in links)
    full = (out / "llms-full.txt").read_text()
    assert full.startswith("# Tidepool\n\n> The tide documentation")
    assert "## Tidepool guide\n\nSource: https://docs.example.com/guide.md" in full
    assert "### Retries" in full and "Set max_retries to control" in full
    assert "### connect\n\nconnect(url) opens a connection to the broker." in full
    assert "Source: https://docs.example.com/api/client.md\n\n### connect" in full


def test_llms_txt_of_an_unknown_collection_names_the_known(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(GUIDE)
    docsage(tmp_path / "home", "ingest", str(tmp_path / "docs"), "-c", "tide", "-q")
    done = docsage(tmp_path / "home", "export", "llms-txt", "-c", "nope", check=False)
    assert done.returncode == 2 and "known: tide" in done.stderr


def test_building_the_server_leaves_the_root_logger_alone(tmp_path: Path) -> None:
    import logging

    from docsage.mcp.server import build
    from docsage.service.core import Service
    from docsage.settings import Settings

    root = logging.getLogger()
    before = (root.handlers[:], root.level)
    service = Service(Settings.from_env(home=tmp_path))
    try:
        build(service)
    finally:
        service.close()
    assert (root.handlers, root.level) == before


def test_service_read_source_checks_the_key_and_logs(tmp_path: Path) -> None:
    from docsage.errors import NotFoundError
    from docsage.service.core import Service
    from docsage.settings import Settings

    home = tmp_path / "home"
    for name, text in (("alpha", GUIDE), ("beta", API)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "doc.md").write_text(text)
        docsage(home, "ingest", str(tmp_path / name), "-c", name, "-q")
    secret = docsage(home, "keys", "create", "--name", "a", "--collections", "alpha")
    service = Service(Settings.from_env(home=home))
    try:
        who = service.authenticate("Bearer " + secret.stdout.strip().splitlines()[-1])
        chunks = service.read_source(who, "alpha", "doc.md", "t", anchor="retries")
        assert [c.anchor for c in chunks] == ["tidepool-guide", "retries"]
        with pytest.raises(NotFoundError, match="readable: alpha") as foreign:
            service.read_source(who, "beta", "doc.md", "t")
        assert "beta" not in str(foreign.value).replace("'beta'", "")
        with pytest.raises(NotFoundError, match="no section 'nope'; its sections: tidepool"):
            service.read_source(who, "alpha", "doc.md", "t", anchor="nope")
        with pytest.raises(NotFoundError, match=r"no source 'x\.md'"):
            service.read_source(who, "alpha", "x.md", "t")
        service.log.flush()
        rows = [(r.route, r.status) for r in service.log.records(0)]
        assert rows == [("t", 200), ("t", 404), ("t", 404)]  # a foreign collection: not admitted
    finally:
        service.close()
