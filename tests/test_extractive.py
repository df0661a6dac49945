"""The extractive answerer's text: abstention lists and their sources."""

from __future__ import annotations


def test_abstention_lists_each_closest_anchor_once() -> None:
    from docsage.answer.extractive import abstention_text
    from docsage.types import Chunk, Hit

    def hit(anchor: str, ordinal: int) -> Hit:
        chunk = Chunk(
            id=f"{anchor}{ordinal}", collection="c", source="a.html", anchor=anchor,
            title=anchor, heading_path=(anchor,), text="x", kind="api",
            line_start=None, line_end=None, ordinal=ordinal,
        )  # fmt: skip
        return Hit(chunk=chunk, score=1.0)

    text = abstention_text(0.1, 0.5, [hit("f", 0), hit("f", 1), hit("g", 2)])
    assert text.count("a.html#f") == 1 and "a.html#g" in text
    assert text.startswith("Not found in the docs")
