"""The identifier-aware tokenizer shared by indexing and querying."""

from __future__ import annotations

from pathlib import Path

import pytest

from docsage.store.sqlite import SQLiteStore
from docsage.testing.store_contract import make_update
from docsage.text import QUERY_STOPWORDS, identifier_tokens, index_text, index_tokens, query_tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("os.path.join", ["os", "path", "join", "os_path_join"]),
        ("snake_case", ["snake", "case", "snake_case"]),
        ("CamelCase", ["camel", "case", "camelcase"]),
        ("HTTPServer", ["http", "server", "httpserver"]),
        ("str.partition", ["str", "partition", "str_partition"]),
        ("getHTTPResponseCode", ["get", "http", "response", "code", "gethttpresponsecode"]),
        ("json.JSONDecoder", ["json", "json", "decoder", "jsondecoder", "json_jsondecoder"]),
        ("__init__", ["init"]),
        ("_private", ["private"]),
        ("plain", ["plain"]),
        ("UPPER", ["upper"]),
    ],
)
def test_identifier_tokens(text: str, tokens: list[str]) -> None:
    assert index_tokens(text) == tokens


def test_identifier_tokens_of_one_word_match_index_tokens() -> None:
    assert identifier_tokens("os.path.join") == index_tokens("os.path.join")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("version 3.11", ["version", "3_11"]),
        ("port 8080", ["port", "8080"]),
        ("x2y", ["x", "2", "y", "x2y"]),
        ("utf-8", ["utf", "8", "utf_8"]),
        ("1.2.3", ["1_2_3"]),
    ],
)
def test_numbers(text: str, tokens: list[str]) -> None:
    assert index_tokens(text) == tokens


def test_punctuation_and_markup_split_words() -> None:
    assert index_tokens("call `f(x, y)`; then [g](h.md) -> done!") == [
        "call",
        "f",
        "x",
        "y",
        "then",
        "g",
        "h",
        "md",
        "h_md",
        "done",
    ]


def test_index_keeps_stopwords_and_order() -> None:
    assert index_tokens("How do I use the json module") == [
        "how",
        "do",
        "i",
        "use",
        "the",
        "json",
        "module",
    ]
    assert index_text("The os.path module") == "the os path os_path module"


def test_query_drops_stopwords_short_tokens_and_repeats() -> None:
    assert query_tokens("How do I use the json module with json.dumps?") == [
        "json",
        "module",
        "dumps",
        "json_dumps",
    ]
    assert query_tokens("what is a x?") == []
    assert query_tokens("utf-8") == ["utf", "utf_8"]


def test_query_of_only_stopwords_is_empty() -> None:
    assert query_tokens("how do I use it") == []
    assert all(token in QUERY_STOPWORDS for token in index_tokens("what is the way to do it"))


def test_query_and_index_agree_on_identifiers() -> None:
    """Every query token of an identifier is a token the index holds for it."""
    for name in ["os.path.join", "snake_case_name", "HTTPServer", "str.partition"]:
        assert set(query_tokens(name)) <= set(index_tokens(f"see {name} here"))


def test_empty_text() -> None:
    assert index_tokens("") == []
    assert query_tokens("  \n ") == []


def test_non_ascii_words_stay_whole() -> None:
    assert index_tokens("Größe der Datei") == ["größe", "der", "datei"]


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("ERR-42", ["err", "42", "err_42"]),
        ("ISSUE-5", ["issue", "5", "issue_5"]),
        ("X-1", ["x", "1", "x_1"]),
        ("python-3.11", ["python", "3_11", "python_3_11"]),
        ("E501", ["e", "501", "e501"]),
    ],
)
def test_hyphenated_codes_keep_a_whole_token(text: str, tokens: list[str]) -> None:
    assert index_tokens(text) == tokens


def test_codes_with_one_digit_survive_the_query() -> None:
    # The lone digit is dropped as noise, so only the compound tells X-1 from X-9.
    assert query_tokens("X-1") == ["x_1"]
    assert query_tokens("ISSUE-5") == ["issue", "issue_5"]
    assert query_tokens("X-1") != query_tokens("X-9")


_NEAR_MISSES = {
    "E501": ["line too long: rule E502 applies", "rule E501 flags a line that is too long"],
    "ERR-42": ["ERR-41 means the disk is full", "ERR-42 means the token expired"],
    "ISSUE-5": ["ISSUE-9 tracks the issue with logging", "ISSUE-5 tracks the crash on start"],
    "X-1": ["X-9 is the spare part", "X-1 is the spare part"],
    "HTTP 404": ["HTTP 500 is a server error", "HTTP 404 means not found"],
    "RFC 7231": ["RFC 7230 defines message syntax", "RFC 7231 defines HTTP semantics"],
    "3.11": ["new in version 3.12 of Python", "new in version 3.11 of Python"],
}


@pytest.mark.parametrize("token", sorted(_NEAR_MISSES))
def test_exact_token_ranks_its_passage_first(tmp_path: Path, token: str) -> None:
    """Over the real FTS5 index, the passage holding the exact token beats its near miss."""
    store = SQLiteStore(tmp_path / "index.sqlite")
    decoy, exact = _NEAR_MISSES[token]
    store.apply("c", [make_update("c", "decoy.md", decoy), make_update("c", "exact.md", exact)], [])
    try:
        hits = store.lexical_search("c", f"what is {token}", 10)
    finally:
        store.close()
    assert hits and hits[0].chunk.source == "exact.md"
    assert len(hits) == 1 or hits[0].score > hits[1].score
