"""The extractive answerer's text: abstention lists and their sources."""

from __future__ import annotations


def test_abstention_lists_each_closest_anchor_once() -> None:
    from docsage.answer.extractive import abstention_text
    from docsage.types import Chunk, Hit

    def hit(anchor: str, ordinal: int) -> Hit:
        chunk = Chunk(
            id=f"{anchor}{ordinal}",
            collection="c",
            source="a.html",
            anchor=anchor,
            title=anchor,
            heading_path=(anchor,),
            text="x",
            kind="api",
            line_start=None,
            line_end=None,
            ordinal=ordinal,
        )
        return Hit(chunk=chunk, score=1.0)

    text = abstention_text(0.1, 0.5, [hit("f", 0), hit("f", 1), hit("g", 2)])
    assert text.count("a.html#f") == 1 and "a.html#g" in text
    assert text.startswith("Not found in the docs")


def test_confidence_takes_the_best_cosine_among_the_hits_an_answer_draws_on() -> None:
    from docsage.answer.extractive import CONFIDENCE_DEPTH, confidence_features
    from docsage.testing.store_contract import make_chunk
    from docsage.types import Hit

    def hit(i: int, cosine: float | None) -> Hit:
        chunk = make_chunk("c", "a.md", "retry a failed job", anchor=f"s{i}")
        return Hit(chunk=chunk, score=1.0 / (i + 1), dense_score=cosine)

    hits = [hit(i, 0.2) for i in range(CONFIDENCE_DEPTH + 2)]
    hits[CONFIDENCE_DEPTH - 1] = hit(CONFIDENCE_DEPTH - 1, 0.7)  # last one that counts
    hits[CONFIDENCE_DEPTH] = hit(CONFIDENCE_DEPTH, 0.9)  # one past the depth: ignored
    hits[0] = hit(0, None)  # a lexical hit without a vector counts as 0
    dense, cover = confidence_features("retry failed job", hits)
    assert dense == 0.7 and cover == 1.0
    assert confidence_features("retry", []) == (0.0, 0.0)
