"""Sentence splitting and the lexical groundedness proxy, limits included."""

from __future__ import annotations

import pytest

from docsage.grounding import content_units, groundedness, is_supported, sentence_support
from docsage.text import split_sentences

PASSAGE = (
    "os.path.join(path, *paths) joins one or more path segments intelligently. "
    "The return value is the concatenation of path and all members of *paths, "
    "with exactly one directory separator following each non-empty part."
)

# -- split_sentences ----------------------------------------------------------------------------


def test_splits_plain_sentences() -> None:
    assert split_sentences("It works. It is fast! Is it safe? Yes.") == [
        "It works.",
        "It is fast!",
        "Is it safe?",
        "Yes.",
    ]


def test_abbreviations_do_not_split() -> None:
    text = "Pass a callable, e.g. a lambda. Use a list, i.e. not a tuple. Lists, sets, etc. work."
    assert split_sentences(text) == [
        "Pass a callable, e.g. a lambda.",
        "Use a list, i.e. not a tuple.",
        "Lists, sets, etc. work.",
    ]
    assert split_sentences("Lists, sets, etc. Then more.") == ["Lists, sets, etc.", "Then more."]


def test_identifiers_versions_and_code_spans_do_not_split() -> None:
    text = "Call os.path.join on Python 3.11. Then use `x = f(). Y.` inline. It ends in v2.0.1."
    assert split_sentences(text) == [
        "Call os.path.join on Python 3.11.",
        "Then use `x = f(). Y.` inline.",
        "It ends in v2.0.1.",
    ]


def test_fenced_code_block_is_one_unit() -> None:
    text = "Run this. It prints.\n\n```python\nx = 1. \nprint(x)  # Done. Next.\n```\nAfter it."
    assert split_sentences(text) == [
        "Run this.",
        "It prints.",
        "```python\nx = 1. \nprint(x)  # Done. Next.\n```",
        "After it.",
    ]


def test_unclosed_fence_runs_to_the_end() -> None:
    assert split_sentences("Intro.\n~~~\na. B. c\n") == ["Intro.", "~~~\na. B. c"]


def test_paragraphs_and_list_items_are_units() -> None:
    text = "First line\ncontinues here\n\nSecond paragraph\n- item one\n- item two\n1. numbered"
    assert split_sentences(text) == [
        "First line continues here",
        "Second paragraph",
        "- item one",
        "- item two",
        "1. numbered",
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n\n ") == []


# -- support ------------------------------------------------------------------------------------


def test_content_units_keep_identifiers_whole_and_split() -> None:
    units = content_units("The getValue method of os.path.join needs HTTPServer on 3.11")
    assert units["getvalue"] == units["os.path.join"] == units["httpserver"] == 2.0
    assert units["3.11"] == 2.0
    assert units["get"] == units["value"] == units["join"] == units["http"] == 1.0
    assert "the" not in units and "of" not in units


def test_copied_sentence_is_supported() -> None:
    sentence = "os.path.join(path, *paths) joins one or more path segments intelligently."
    assert sentence_support(sentence, PASSAGE) == 1.0
    assert is_supported(sentence, PASSAGE)


def test_sentence_about_another_api_is_not_supported() -> None:
    sentence = "json.dumps serializes an object to a JSON formatted string."
    assert sentence_support(sentence, PASSAGE) < 0.2
    assert not is_supported(sentence, PASSAGE)


def test_identifier_weight_by_hand() -> None:
    # units: os.path.join (2), os (1), path (1), join (1), strings (1); the passage has
    # all but "strings" -> 5 / 6 (a plain word would count 1 / 1 like any other)
    assert sentence_support("os.path.join strings", PASSAGE) == pytest.approx(5 / 6)
    # a wrong identifier loses its whole weight but its parts still count: "os.path.split"
    # (2) missing, os, path found, split missing -> 2 / 5
    assert sentence_support("os.path.split", PASSAGE) == pytest.approx(2 / 5)


def test_negated_copy_is_still_supported_known_limit() -> None:
    """Documented limit: negation is invisible to a bag of content words."""
    negated = "os.path.join(path, *paths) does not join path segments intelligently."
    assert is_supported(negated, PASSAGE)


def test_numbers_must_match_verbatim_known_limit() -> None:
    passage = "New in Python 3.11.0: the tomllib module."
    assert sentence_support("tomllib is new in Python 3.11.0", passage) == 1.0
    assert sentence_support("tomllib is new in Python 3.11", passage) < 1.0


def test_sentence_without_content_scores_zero() -> None:
    assert sentence_support("It is.", PASSAGE) == 0.0


# -- groundedness -------------------------------------------------------------------------------


def test_groundedness_share_of_supported_sentences() -> None:
    items = [
        ("os.path.join joins path segments intelligently.", [PASSAGE]),
        ("json.dumps writes JSON.", ["unrelated text", PASSAGE]),
        ("The return value concatenates path and paths.", ["unrelated text", PASSAGE]),
        ("os.path.join joins path segments.", []),  # uncited: unsupported
    ]
    assert groundedness(items) == 0.5


def test_groundedness_of_no_sentences_is_undefined() -> None:
    with pytest.raises(ValueError, match="no sentences"):
        groundedness([])
