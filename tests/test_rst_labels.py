"""``:ref:`label``` to a section in another reST file shows that section's title, as Sphinx
does: the label scan (``rst_labels``), and real ingests into SQLite that keep it current."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.app import Docsage
from docsage.ingest.parsers import rst
from docsage.ingest.parsers.registry import with_labels
from docsage.ingest.parsers.rst_labels import displayed, label_titles, refs_digest, scan
from docsage.settings import Settings
from docsage.testing.embedders import CountingEmbedder
from docsage.types import Section

A_RST = "Engines\n=======\n\nSee :ref:`b_label`.\n"
B_RST = ".. _b_label:\n\nConfiguring Logging\n===================\n\nUse the echo flag.\n"


def test_scan_finds_labels_before_titles() -> None:
    text = (
        ".. _Top_Label:\n\n"
        "=========\n Overview\n=========\n\n"
        ".. _first:\n.. _second:\n\n"
        ".. currentmodule:: sqlalchemy.orm\n\n"
        "Using :class:`.Session` and ``commit()``\n"
        "----------------------------------------\n\n"
        ".. _paragraph_label:\n\n"
        "Only a paragraph, so no title.\n\n"
        ".. _directive_label:\n\n"
        ".. note::\n\n   Not a section.\n"
    )
    assert scan(text) == {
        "top_label": "Overview",
        "first": "Using Session and commit()",
        "second": "Using Session and commit()",
    }


def test_labels_are_case_insensitive_and_the_first_definition_wins() -> None:
    labels = label_titles([".. _Dup:\n\nOne\n===\n", ".. _dup:\n\nTwo\n===\n"])
    assert labels == {"dup": "One"}
    assert rst.parse("T\n=\n\nSee :ref:`DUP`.\n", labels=labels)[0].blocks[0].text == "See One."


def test_titles_show_as_the_built_page_does() -> None:
    assert displayed(r"The :func:`~sqlalchemy.orm.relationship` *and* `docs <https://x>`_") == (
        "The relationship and docs"
    )
    assert displayed(":ref:`the pool <pooling>` with **strong** \\*stars") == (
        "the pool with strong *stars"
    )


def test_the_files_own_section_wins_over_the_ingests_labels() -> None:
    text = ".. _b_label:\n\nHere\n====\n\nSee :ref:`b_label` and :ref:`other_thing`.\n"
    here = rst.parse(text, labels={"b_label": "Elsewhere"})[-1]
    assert here.blocks[0].text == "See Here and other thing."


def test_refs_digest_covers_only_the_titles_a_file_refers_to() -> None:
    labels = {"b_label": "Configuring Logging", "c": "C"}
    digest = refs_digest(A_RST, labels)
    assert digest == refs_digest(A_RST, {**labels, "c": "changed"})
    assert digest != refs_digest(A_RST, {**labels, "b_label": "Logging"})
    assert refs_digest("See :ref:`titled <b_label>`.\n", labels) == ""


def test_a_parser_without_labels_is_called_as_it_is() -> None:
    def plain(text: str) -> list[Section]:
        return []

    assert with_labels(plain, {"x": "X"}) is plain
    assert with_labels(rst.parse, {"x": "X"})("See :ref:`x`.\n")[0].text == "See X."


@pytest.fixture
def ds(tmp_path: Path) -> Iterator[Docsage]:
    settings = Settings.from_env(environ={}, home=tmp_path / "home")
    with Docsage(settings, embedder=CountingEmbedder()) as docsage:
        yield docsage


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "a.rst").write_text(A_RST, encoding="utf-8")
    (root / "b.rst").write_text(B_RST, encoding="utf-8")
    (root / "c.rst").write_text("Other\n=====\n\nNo references.\n", encoding="utf-8")
    (root / "d.md").write_text("# Notes\n\nMarkdown text.\n", encoding="utf-8")
    return root


def a_text(ds: Docsage) -> str:
    return " ".join(chunk.text for chunk in ds.store.chunks("c", "a.rst"))


def test_ref_to_another_file_shows_its_section_title(ds: Docsage, docs: Path) -> None:
    report = ds.ingest(docs, collection="c")
    assert report.files_ingested == 4 and report.skipped == ()
    assert "See Configuring Logging." in a_text(ds)
    assert "b label" not in a_text(ds)


def test_a_changed_title_reaches_the_files_that_refer_to_it(ds: Docsage, docs: Path) -> None:
    ds.ingest(docs, collection="c")
    (docs / "b.rst").write_text(B_RST.replace("Configuring Logging", "Logging Setup  "))
    report = ds.ingest(docs, collection="c")
    assert "See Logging Setup." in a_text(ds)
    # b.rst changed and a.rst refers to it; c.rst and d.md are not parsed again.
    assert (report.files_ingested, report.files_unchanged) == (2, 2)
    again = ds.ingest(docs, collection="c")
    assert (again.files_ingested, again.files_unchanged) == (0, 4)
