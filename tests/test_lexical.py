"""The identifier-aware tokenizer shared by indexing and querying."""

from __future__ import annotations

import pytest

from docsage.lexical import STOPWORDS, identifier_tokens, index_text, index_tokens, query_tokens


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
        ("utf-8", ["utf", "8"]),
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
    assert query_tokens("utf-8") == ["utf"]


def test_query_of_only_stopwords_is_empty() -> None:
    assert query_tokens("how do I use it") == []
    assert all(token in STOPWORDS for token in index_tokens("what is the way to do it"))


def test_query_and_index_agree_on_identifiers() -> None:
    """Every query token of an identifier is a token the index holds for it."""
    for name in ["os.path.join", "snake_case_name", "HTTPServer", "str.partition"]:
        assert set(query_tokens(name)) <= set(index_tokens(f"see {name} here"))


def test_empty_text() -> None:
    assert index_tokens("") == []
    assert query_tokens("  \n ") == []


def test_non_ascii_words_stay_whole() -> None:
    assert index_tokens("Größe der Datei") == ["größe", "der", "datei"]
