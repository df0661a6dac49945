"""The real ingest pipeline over real files: formats, provenance, incremental runs, ignore
rules, and bad input that must be skipped with a reason instead of aborting the run."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.app import Docsage
from docsage.ingest.chunking import embed_text
from docsage.settings import Settings
from docsage.testing.embedders import CountingEmbedder
from docsage.types import IngestReport

MARKDOWN = """\
# Guide

Intro paragraph about installing the widget.

## Configure retries

Set `max_retries` in the config file.
"""

RST = """\
API reference
=============

.. function:: frobnicate(x)

   Frobnicates *x* thoroughly.
"""

HTML = """\
<html><head><title>Widget page</title></head><body>
<h1 id="top">Widget heading</h1><p>Some text about sprockets.</p>
<h2 id="more">More</h2><p>Second part about cogs.</p>
</body></html>
"""

TEXT = "Notes\n\nPlain text notes about gadgets.\n"

PYTHON = '''\
"""Module docstring."""


def helper(a, b):
    """Add two numbers together."""
    return a + b


class Thing:
    """A thing with zorbs."""

    def run(self):
        """Run the thing."""
'''

JSONL = (
    '{"_id": "r1", "title": "Record one", "text": "first record about quux"}\n'
    '{"_id": "r2", "title": "Record two", "text": "second record"}\n'
)


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def open_docsage(home: Path, embedder: CountingEmbedder | None = None, **settings: int) -> Docsage:
    return Docsage(
        Settings.from_env(environ={}, home=home, **settings),
        embedder=embedder or CountingEmbedder(),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    return docs


@pytest.fixture
def embedder() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def ds(tmp_path: Path, embedder: CountingEmbedder) -> Iterator[Docsage]:
    with open_docsage(tmp_path / "home", embedder) as docsage:
        yield docsage


def sources(ds: Docsage, collection: str = "c") -> set[str]:
    return set(ds.store.documents(collection))


def skipped(report: IngestReport) -> dict[str, str]:
    return {s.source: s.reason for s in report.skipped}


def lexical_refs(ds: Docsage, query: str, collection: str = "c") -> list[str]:
    result = ds.search(query, collection=collection, mode="lexical")
    return [h.chunk.ref for h in result.hits]


# -- formats and provenance ---------------------------------------------------------------


@pytest.fixture
def every_format(root: Path) -> Path:
    write(root, "guide/intro.md", MARKDOWN)
    write(root, "api.rst", RST)
    write(root, "site/page.html", HTML)
    write(root, "notes.txt", TEXT)
    write(root, "pkg/mod.py", PYTHON)
    write(root, "data/records.jsonl", JSONL)
    return root


def test_every_format_is_ingested_with_provenance(ds: Docsage, every_format: Path) -> None:
    report = ds.ingest(every_format, collection="c")
    assert report.skipped == ()
    assert report.files_ingested == 6
    assert sources(ds) == {
        "guide/intro.md",
        "api.rst",
        "site/page.html",
        "notes.txt",
        "pkg/mod.py",
        "data/records.jsonl",
    }
    assert report.chunks_written == sum(len(ds.store.chunks("c", s)) for s in sources(ds))
    assert report.chunks_embedded == report.chunks_written
    assert report.vectors_missing == 0

    [md] = ds.store.chunks("c", "guide/intro.md", "configure-retries")
    assert (md.title, md.heading_path, md.lines) == (
        "Configure retries",
        ("Guide", "Configure retries"),
        (7, 7),
    )
    [api] = ds.store.chunks("c", "api.rst", "frobnicate")
    assert (api.kind, api.title, api.lines) == ("api", "frobnicate(x)", (6, 6))
    [html] = ds.store.chunks("c", "site/page.html", "more")
    assert (html.title, html.heading_path, html.lines) == ("More", ("Widget heading", "More"), None)
    [txt] = ds.store.chunks("c", "notes.txt")
    assert (txt.title, txt.kind, txt.lines) == ("Notes", "text", (1, 3))
    funcs = ds.store.chunks("c", "pkg/mod.py", "helper")  # one or more chunks, in order
    assert {(f.kind, f.title) for f in funcs} == {("function", "def helper(a, b)")}
    assert (funcs[0].line_start, funcs[-1].line_end) == (4, 6)
    assert [f.ordinal for f in funcs] == sorted(f.ordinal for f in funcs)
    [method] = ds.store.chunks("c", "pkg/mod.py", "Thing.run")
    assert method.heading_path == ("Thing", "run")
    [record] = ds.store.chunks("c", "data/records.jsonl", "r1")
    assert (record.kind, record.title, record.lines) == ("record", "Record one", (1, 1))


@pytest.mark.parametrize(
    ("query", "ref"),
    [
        ("max_retries", "guide/intro.md#configure-retries"),
        ("frobnicate", "api.rst#frobnicate"),
        ("cogs", "site/page.html#more"),
        ("gadgets", "notes.txt"),
        ("zorbs", "pkg/mod.py#Thing"),
        ("quux", "data/records.jsonl#r1"),
    ],
)
def test_each_format_is_searchable_by_its_source_and_anchor(
    ds: Docsage, every_format: Path, query: str, ref: str
) -> None:
    ds.ingest(every_format, collection="c")
    assert lexical_refs(ds, query)[0] == ref


def test_line_numbers_point_at_the_chunk_text(ds: Docsage, every_format: Path) -> None:
    ds.ingest(every_format, collection="c")
    checked = 0
    for source in sources(ds):
        lines = (every_format / source).read_text().splitlines()
        for chunk in ds.store.chunks("c", source):
            if chunk.lines is None:
                continue
            span = "\n".join(lines[chunk.lines[0] - 1 : chunk.lines[1]])
            first_word = re.findall(r"[A-Za-z]{3,}", chunk.text)[0]
            assert first_word in span, (source, chunk.anchor, chunk.lines)
            checked += 1
    assert checked >= 8


# -- incremental runs ---------------------------------------------------------------------


def test_second_run_processes_nothing(
    ds: Docsage, every_format: Path, embedder: CountingEmbedder
) -> None:
    first = ds.ingest(every_format, collection="c")
    embedded = len(embedder.texts)
    assert embedded == first.chunks_written
    second = ds.ingest(every_format, collection="c")
    assert (second.files_ingested, second.files_unchanged, second.files_removed) == (0, 6, 0)
    assert (second.chunks_written, second.chunks_embedded) == (0, 0)
    assert len(embedder.texts) == embedded


def test_modified_file_is_reprocessed_and_only_changed_text_embedded(
    ds: Docsage, every_format: Path, embedder: CountingEmbedder
) -> None:
    ds.ingest(every_format, collection="c")
    before = {s: ds.store.chunks("c", s) for s in sources(ds)}
    embedder.batches.clear()
    write(every_format, "guide/intro.md", MARKDOWN.replace("config file", "settings file"))
    report = ds.ingest(every_format, collection="c")
    assert (report.files_ingested, report.files_unchanged) == (1, 5)
    [changed] = ds.store.chunks("c", "guide/intro.md", "configure-retries")
    assert embedder.texts == [embed_text(changed.heading_path, changed.text)]
    assert report.chunks_embedded == 1
    for source, chunks in before.items():
        if source != "guide/intro.md":
            assert ds.store.chunks("c", source) == chunks
    assert lexical_refs(ds, "settings file")[0] == "guide/intro.md#configure-retries"


def test_deleted_file_loses_its_chunks(ds: Docsage, every_format: Path) -> None:
    ds.ingest(every_format, collection="c")
    (every_format / "notes.txt").unlink()
    report = ds.ingest(every_format, collection="c")
    assert report.files_removed == 1
    assert "notes.txt" not in sources(ds)
    assert ds.store.chunks("c", "notes.txt") == []
    assert lexical_refs(ds, "gadgets") == []
    assert "notes.txt" not in {h.chunk.source for h in ds.search("gadgets", collection="c").hits}


def test_moved_file_is_not_embedded_again(
    ds: Docsage, every_format: Path, embedder: CountingEmbedder
) -> None:
    ds.ingest(every_format, collection="c")
    embedder.batches.clear()
    (every_format / "notes.txt").rename(every_format / "moved.txt")
    write(every_format, "copy.txt", TEXT)
    report = ds.ingest(every_format, collection="c")
    assert (report.files_ingested, report.files_removed) == (2, 1)
    assert embedder.texts == []
    assert report.vectors_missing == 0
    [chunk] = ds.store.chunks("c", "moved.txt")
    query = embed_text(chunk.heading_path, chunk.text)  # its own text: cosine 1 for both copies
    hits = ds.store.dense_search("c", embedder.name, embedder.embed([query])[0], 2)
    assert {h.chunk.source for h in hits} == {"moved.txt", "copy.txt"}
    assert [h.score for h in hits] == pytest.approx([1.0, 1.0])


def test_no_embed_then_embed_pending(tmp_path: Path, every_format: Path) -> None:
    embedder = CountingEmbedder()
    with open_docsage(tmp_path / "home", embedder) as ds:
        report = ds.ingest(every_format, collection="c", embed=False)
        assert (report.chunks_embedded, embedder.texts) == (0, [])
        assert ds.search("gadgets", collection="c").dense_available is False
        done, missing = ds.embed_pending(collection="c")
        assert (done, missing) == (report.chunks_written, 0)
        assert ds.search("gadgets", collection="c").dense_available is True
        assert ds.embed_pending(collection="c") == (0, 0)


def test_collections_are_separate(ds: Docsage, every_format: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write(other, "only.md", "# Only\n\nA lonely page about quux.\n")
    ds.ingest(every_format, collection="c")
    ds.ingest(other, collection="d")
    assert sources(ds, "d") == {"only.md"}
    assert lexical_refs(ds, "quux", "d") == ["only.md#only"]
    assert "only.md" not in {h.chunk.source for h in ds.search("quux", collection="c").hits}


# -- ignore rules -------------------------------------------------------------------------


@pytest.fixture
def ignorable(root: Path) -> Path:
    write(root, "index.md", "# Index\n\nkept page\n")
    write(root, ".git/notes.md", "# Git\n\nignored page\n")
    write(root, "node_modules/pkg/README.md", "# Pkg\n\nignored page\n")
    write(root, "_build/html/index.html", "<h1 id='i'>Built</h1><p>kept html</p>")
    write(root, "_build/html/_sources/index.rst.txt", "Src\n===\n\nignored copy\n")
    write(root, "_build/html/_static/notes.txt", "ignored static\n")
    write(root, "_build/html/genindex.html", "<h1>Index</h1><p>ignored index</p>")
    write(root, "drafts/wip.md", "# WIP\n\ngitignored page\n")
    write(root, "secret.md", "# Secret\n\ngitignored page\n")
    write(root, "extra/skip.md", "# Extra\n\nignored by option\n")
    write(root, ".gitignore", "drafts/\nsecret.md\n")
    return root


DEFAULT_IGNORED = {
    ".git/notes.md",
    "node_modules/pkg/README.md",
    "_build/html/_sources/index.rst.txt",
    "_build/html/_static/notes.txt",
    "_build/html/genindex.html",
}


def test_default_ignores_and_gitignore(ds: Docsage, ignorable: Path) -> None:
    report = ds.ingest(ignorable, collection="c")
    assert sources(ds) == {"index.md", "_build/html/index.html", "extra/skip.md"}
    # Ignored files are not "skipped" (they were never candidates); unsupported ones are.
    assert skipped(report) == {".gitignore": "unsupported file type"}


def test_extra_ignore_pattern(ds: Docsage, ignorable: Path) -> None:
    ds.ingest(ignorable, collection="c", ignore=("extra/",))
    assert sources(ds) == {"index.md", "_build/html/index.html"}
    ds.ingest(ignorable, collection="c", ignore=("*.html",))
    assert sources(ds) == {"index.md", "extra/skip.md"}


def test_without_default_ignores_everything_but_gitignore_comes_back(
    ds: Docsage, ignorable: Path
) -> None:
    ds.ingest(ignorable, collection="c", use_default_ignores=False)
    assert sources(ds) == {"index.md", "_build/html/index.html", "extra/skip.md"} | DEFAULT_IGNORED


def test_ignoring_a_file_later_removes_it(ds: Docsage, ignorable: Path) -> None:
    ds.ingest(ignorable, collection="c")
    report = ds.ingest(ignorable, collection="c", ignore=("extra/",))
    assert report.files_removed == 1
    assert lexical_refs(ds, "option") == []


# -- bad input ----------------------------------------------------------------------------


@contextlib.contextmanager
def effective_user(uid: int) -> Iterator[None]:
    os.seteuid(uid)
    try:
        yield
    finally:
        os.seteuid(0)


def test_bad_files_are_skipped_with_reasons_and_good_ones_kept(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(root, "good.md", "# Good\n\nThe good page about bananas.\n")
    write(root, "good.py", 'def ok():\n    """Returns mangoes."""\n')
    write(root, "binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(root, "latin1.md", "# Caf\xe9\n\nna\xefve text\n".encode("latin-1"))
    write(root, "empty.md", "")
    write(root, "blank.txt", "  \n\n\t\n")
    write(root, "huge.md", "# Huge\n\n" + "word " * 400)
    write(root, "broken.py", "def broken(:\n    pass\n")
    write(root, "records.jsonl", "not json\n[1, 2]\n")
    write(root, "image.png", b"\x89PNG not a doc")
    os.mkfifo(root / "pipe.md")
    (root / "loop_a.md").symlink_to("loop_b.md")
    (root / "loop_b.md").symlink_to("loop_a.md")
    (root / "dangling.md").symlink_to("does-not-exist.md")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to("..", target_is_directory=True)
    (root / "link.md").symlink_to("good.md")

    with open_docsage(tmp_path / "home", max_file_bytes=1000) as ds:
        report = ds.ingest(root, collection="c")
        reasons = skipped(report)
        assert reasons == {
            "binary.md": "binary file",
            "empty.md": "empty file",
            "blank.txt": "empty file",
            "huge.md": f"over the size limit ({(root / 'huge.md').stat().st_size} > 1000 bytes)",
            "broken.py": "not valid Python: invalid syntax (<unknown>, line 1)",
            "records.jsonl": "none of the 2 non-blank lines is a JSON record with an id",
            "image.png": "unsupported file type",
            "pipe.md": "not a regular file",
            "loop_a.md": "broken symlink or symlink loop",
            "loop_b.md": "broken symlink or symlink loop",
            "dangling.md": "broken symlink or symlink loop",
            "sub/up": "symlinked folder not followed",
        }
        assert sources(ds) == {"good.md", "good.py", "latin1.md", "link.md"}
        assert report.files_ingested == 4
        assert lexical_refs(ds, "bananas") in (
            ["good.md#good", "link.md#good"],
            ["link.md#good", "good.md#good"],
        )
        assert lexical_refs(ds, "mangoes") == ["good.py#ok"]


def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        base = tmp_path
        run_as: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    else:
        # Root reads a chmod 000 file anyway; read it as "nobody" (the effective uid), from a
        # folder nobody may enter (pytest's tmp_path is private to root).
        base = Path(tempfile.mkdtemp(prefix="docsage-unreadable-"))
        base.chmod(0o755)
        run_as = effective_user(65534)
    try:
        root = base / "docs"
        write(root, "good.md", "# Good\n\nreadable text\n")
        write(root, "locked.md", "# Locked\n\nsecret text\n").chmod(0)
        root.chmod(0o755)
        home = base / "home"
        home.mkdir()
        os.chown(home, 65534 if os.geteuid() == 0 else os.getuid(), -1)
        with run_as, open_docsage(home) as ds:
            report = ds.ingest(root, collection="c")
            assert sources(ds) == {"good.md"}
        assert skipped(report) == {"locked.md": "unreadable: Permission denied"}
    finally:
        if base is not tmp_path:
            shutil.rmtree(base)


def test_malformed_markup_is_ingested_leniently(ds: Docsage, root: Path) -> None:
    write(root, "broken.html", "<div><p>unclosed <b>bold <i>italic\n<table><tr><td>cellvalue")
    write(root, "broken.rst", "Title\n=====\n\n.. unknown-directive::\n\n   body\n\n`open\n")
    write(root, "broken.md", "# Title\n\n```python\nnever closed fence with lambda\n")
    report = ds.ingest(root, collection="c")
    assert report.skipped == ()
    assert lexical_refs(ds, "cellvalue") == ["broken.html"]
    assert lexical_refs(ds, "lambda") == ["broken.md#title"]
    assert sources(ds) == {"broken.html", "broken.rst", "broken.md"}


def test_ingesting_a_missing_folder_is_a_usage_error(ds: Docsage, tmp_path: Path) -> None:
    from docsage.errors import UsageError

    with pytest.raises(UsageError, match="not a folder"):
        ds.ingest(tmp_path / "nope", collection="c")


# -- the real embedding model --------------------------------------------------------------


@pytest.mark.slow
def test_real_model_finds_a_paraphrase_with_no_shared_words(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    write(root, "install.md", "# Installing\n\nRun pip install mytool inside a virtualenv.\n")
    write(
        root,
        "retries.md",
        "# Retries\n\nWhen a network request fails, the client tries again up to three "
        "times, waiting longer between each attempt.\n",
    )
    write(root, "logging.md", "# Logging\n\nMessages go to standard error; set log_level.\n")
    write(root, "license.md", "# License\n\nDistributed under the Apache 2.0 terms.\n")
    question = "What happens if my connection drops?"
    with Docsage(Settings.from_env(environ={}, home=tmp_path / "home")) as ds:
        report = ds.ingest(root, collection="c")
        assert report.vectors_missing == 0
        assert ds.search(question, collection="c", mode="lexical").hits == []
        hits = ds.search(question, collection="c", mode="dense").hits
        assert hits[0].chunk.ref == "retries.md#retries"
        scores = [h.dense_score or 0.0 for h in hits]
        assert scores == sorted(scores, reverse=True) and scores[0] > scores[1]
        assert ds.search(question, collection="c").hits[0].chunk.ref == "retries.md#retries"


def test_a_symlink_out_of_the_ingested_folder_is_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("the database password is hunter2\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nHow to install.\n")
    (docs / "leak.txt").symlink_to(outside)
    (docs / "inside.md").symlink_to(docs / "guide.md")
    from docsage.ingest.sources import walk

    files, skipped = walk(docs)
    assert sorted(f.source for f in files) == ["guide.md", "inside.md"]
    assert [(s.source, s.reason) for s in skipped] == [
        ("leak.txt", "symlink points outside the ingested folder")
    ]


def test_progress_reports_files_chunks_and_embeddings(ds: Docsage, root: Path) -> None:
    write(root, "guide.md", MARKDOWN)
    write(root, "api.rst", RST)
    events: list[tuple[str, int, int]] = []
    report = ds.ingest(root, collection="c", progress=lambda *e: events.append(e))
    by_stage: dict[str, list[tuple[int, int]]] = {}
    for stage, done, total in events:
        by_stage.setdefault(stage, []).append((done, total))
    assert by_stage["files"][-1] == (2, 2)
    assert by_stage["chunks"][-1] == (report.chunks_written, 0)  # total unknown while parsing
    assert [d for d, _ in by_stage["chunks"]] == sorted(d for d, _ in by_stage["chunks"])
    assert by_stage["embeddings"][-1] == (report.chunks_embedded, report.chunks_embedded)


def test_a_file_of_records_is_not_cut_at_the_per_file_limit(tmp_path: Path, root: Path) -> None:
    """A .jsonl corpus export is one document per record: 30 records against a per-file
    limit of 10 are all kept (the per-ingest limit still bounds it); a Markdown file with 30
    sections is cut."""
    lines = [
        f'{{"id": "r{i}", "title": "Record {i}", "text": "Fact number {i}."}}' for i in range(30)
    ]
    (root / "corpus.jsonl").write_text("\n".join(lines) + "\n")
    (root / "long.md").write_text("".join(f"# Part {i}\n\nText {i}.\n\n" for i in range(30)))
    settings = Settings.from_env({}, home=tmp_path / "home", embedder="none")
    with Docsage(settings.but(max_chunks_per_file=10)) as ds:
        report = ds.ingest(root, collection="c")
        chunks = ds.store.collections()[0].chunks
    notes = {n.source: n.note for n in report.notes}
    assert "corpus.jsonl" not in notes and "cut to its first 10 of 30" in notes["long.md"]
    assert chunks == 30 + 10


def test_none_switches_a_chunk_limit_off(tmp_path: Path, root: Path) -> None:
    """``DOCSAGE_MAX_CHUNKS_PER_FILE=none`` is no limit (not 0, which would keep nothing)."""
    (root / "long.md").write_text("".join(f"# Part {i}\n\nText {i}.\n\n" for i in range(30)))
    environ = {"DOCSAGE_MAX_CHUNKS_PER_FILE": "none", "DOCSAGE_MAX_CHUNKS_PER_INGEST": "40"}
    settings = Settings.from_env(environ, home=tmp_path / "home", embedder="none")
    assert settings.max_chunks_per_file is None and settings.max_chunks_per_ingest == 40
    with Docsage(settings) as ds:
        report = ds.ingest(root, collection="c")
    assert not any(n.source == "long.md" for n in report.notes), "30 sections, none cut"
    assert Settings.from_env({}).max_chunks_per_file == 2000, "bounded unless switched off"
