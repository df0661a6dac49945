"""The text-analysis core: words and tokens, stopword lists, fenced blocks and paragraphs,
sentences, citation markers. Pure functions, no fixtures."""

from __future__ import annotations

import pytest

from docsage.text import (
    CLAIM_STOPWORDS,
    QUERY_STOPWORDS,
    TOPIC_STOPWORDS,
    Block,
    blocks,
    citation_numbers,
    citations_before_stop,
    format_citations,
    identifier_parts,
    index_tokens,
    inside_fence,
    looks_like_code,
    paragraphs,
    query_tokens,
    split_sentences,
    strip_citations,
    unfence,
    words,
)

# -- words -------------------------------------------------------------------------------------


def test_words_keep_dotted_snake_and_camel_names_whole() -> None:
    assert words("Call os.path.join, then str.partition() on my_var or getHTTPResponse.") == [
        "Call",
        "os.path.join",
        "then",
        "str.partition",
        "on",
        "my_var",
        "or",
        "getHTTPResponse",
    ]


def test_words_read_numbers_and_versions_whole() -> None:
    assert words("Python 3.11 on port 8080, v1.2.3") == [
        "Python",
        "3.11",
        "on",
        "port",
        "8080",
        "v1",
        "2.3",
    ]


def test_codes_are_one_word_only_when_asked_for() -> None:
    assert words("ERR-42 and utf-8", codes=True) == ["ERR-42", "and", "utf-8"]
    assert words("ERR-42 and utf-8") == ["ERR", "42", "and", "utf", "8"]
    # A code is a whole word: not when more hyphens or word characters follow.
    assert words("a-1-b x-2y", codes=True) == ["a", "1", "b", "x", "2", "y"]


def test_words_read_every_script_unless_ascii_only() -> None:
    assert words("Größe der Datei, naïve café, 日本語") == [
        "Größe",
        "der",
        "Datei",
        "naïve",
        "café",
        "日本語",
    ]
    assert words("Größe naïve café", ascii_only=True) == ["Gr", "e", "na", "ve", "caf"]


def test_markup_separates_words() -> None:
    assert words("`f(x)` [g](h.md) <b>i</b> --flag") == [
        "f",
        "x",
        "g",
        "h.md",
        "b",
        "i",
        "b",
        "flag",
    ]


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("os.path.join", ["os", "path", "join"]),
        ("snake_case", ["snake", "case"]),
        ("getHTTPResponseCode", ["get", "http", "response", "code"]),
        ("JSONDecoder", ["json", "decoder"]),
        ("x2y", ["x", "2", "y"]),
        ("__init__", ["init"]),
        ("a..b__c", ["a", "b", "c"]),
        ("Größe_Datei", ["größe", "datei"]),
        ("UPPER", ["upper"]),
    ],
)
def test_identifier_parts(name: str, parts: list[str]) -> None:
    assert identifier_parts(name) == parts


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("os.path", True),
        ("snake_case", True),
        ("camelCase", True),
        ("HTTPServer", True),
        ("Python", False),
        ("values", False),
        ("A", False),
    ],
)
def test_looks_like_code(word: str, code: bool) -> None:
    assert looks_like_code(word) is code


def test_index_and_query_tokens_of_code_and_prose() -> None:
    assert index_tokens("Use os.path.join for ERR-42 in 3.11") == [
        *["use", "os", "path", "join", "os_path_join", "for"],
        *["err", "42", "err_42", "in", "3_11"],
    ]
    assert query_tokens("How do I use os.path.join with os.path?") == [
        "os",
        "path",
        "join",
        "os_path_join",
        "os_path",
    ]


# -- stopword policy ---------------------------------------------------------------------------


def test_each_stopword_list_serves_its_purpose() -> None:
    # Asking words go from a query; negations stay, so "not" can still match.
    assert {"how", "i", "get", "want", "need", "way"} <= QUERY_STOPWORDS
    assert "not" not in QUERY_STOPWORDS and "only" not in QUERY_STOPWORDS
    # A claim check drops every function word, negations included (a documented blind spot).
    assert {"not", "no", "only", "very", "via"} <= CLAIM_STOPWORDS
    assert "get" not in CLAIM_STOPWORDS
    # A follow-up's topic loses the generic verbs the follow-up brings its own of.
    assert {"install", "remove", "configure", "please"} <= TOPIC_STOPWORDS
    for stopwords in (QUERY_STOPWORDS, CLAIM_STOPWORDS, TOPIC_STOPWORDS):
        assert all(w == w.lower() and w.isalpha() for w in stopwords)


def test_query_tokens_drop_only_query_stopwords() -> None:
    assert query_tokens("how do I get it not to retry") == ["not", "retry"]


# -- blocks: fences and paragraphs -------------------------------------------------------------


def test_blocks_are_paragraphs_and_whole_fences() -> None:
    text = "Intro.\n\n```py\na = 1\n\nb = 2\n```\nAfter.\n\n\n\nEnd."
    assert blocks(text) == [
        Block("Intro.", False),
        Block("```py\na = 1\n\nb = 2\n```", True),
        Block("\nAfter.", False),
        Block("End.", False),
    ]


def test_tilde_fences_and_longer_runs() -> None:
    assert blocks("~~~\nx\n\ny\n~~~") == [Block("~~~\nx\n\ny\n~~~", True)]
    assert blocks("````md\n```\ninner\n```\n````\nafter") == [
        Block("````md\n```\ninner\n```\n````", True),
        Block("\nafter", False),
    ]


def test_a_fence_closes_only_on_its_own_character_and_length() -> None:
    # A ``~~~`` line inside a backtick fence is content, and a shorter run does not close.
    assert blocks("```\n~~~\n\ny\n```")[0] == Block("```\n~~~\n\ny\n```", True)
    assert blocks("````\na\n```\n\nb\n````") == [Block("````\na\n```\n\nb\n````", True)]
    # A longer run, or one with text after it, does close.
    assert blocks("```\na\n````\n\nb") == [Block("```\na\n````", True), Block("b", False)]
    assert blocks("```\na\n``` [1]\n\nb")[0] == Block("```\na\n``` [1]", True)


def test_an_unterminated_fence_runs_to_the_end() -> None:
    assert blocks("Look:\n\n```python\nx = 1\n\ny = 2\n") == [
        Block("Look:", False),
        Block("```python\nx = 1\n\ny = 2", True),
    ]


def test_indented_fences_count_and_backticks_mid_line_do_not() -> None:
    assert blocks("- step\n  ```\n  code\n  ```") == [
        Block("- step\n", False),
        Block("  ```\n  code\n  ```", True),
    ]
    assert blocks("say ```x``` here\n\nnext") == [
        Block("say ```x``` here", False),
        Block("next", False),
    ]
    assert blocks("```") == [Block("```", False)]  # an opening line needs a line after it


def test_inside_fence_reads_the_whole_text() -> None:
    text = "a\n\n```\n~~~\n\nb\n```\n\nc"
    cuts = [i for i in range(len(text)) if text.startswith("\n\n", i)]
    assert [inside_fence(text, i) for i in cuts] == [False, True, False]
    assert inside_fence("```\nopen\n\nstill open", 9)


def test_paragraph_breaks() -> None:
    assert paragraphs("a\n\nb\n \n\n\nc\nd") == ["a", "b", "c\nd"]
    # By default only the first blank line may hold spaces; any_whitespace takes them all.
    assert paragraphs("a\n \n  \n    code") == ["a", "  \n    code"]
    assert paragraphs("a\n \n  \n    code", any_whitespace=True) == ["a", "    code"]
    assert paragraphs("\n\na\n\n") == ["", "a", ""]


@pytest.mark.parametrize(
    ("reply", "body"),
    [
        ('```json\n{"a": 1}\n```', '{"a": 1}'),
        ('  ```\n{"a": 1}\n```  \n', '{"a": 1}'),
        ('{"a": 1}\n', '{"a": 1}'),
        ('````\n{"a": 1}\n````', '````\n{"a": 1}\n````'),
        ("```yaml\na: 1\n```", "```yaml\na: 1\n```"),
    ],
)
def test_unfence(reply: str, body: str) -> None:
    assert unfence(reply) == body


# -- sentences ---------------------------------------------------------------------------------


def test_sentences_keep_fences_code_spans_and_names_whole() -> None:
    text = "Call `a. b` first. Then os.path.join in 3.11.\n~~~\nx. Y.\n~~~\n- one. - two"
    assert split_sentences(text) == [
        "Call `a. b` first.",
        "Then os.path.join in 3.11.",
        "~~~\nx. Y.\n~~~",
        "- one.",
        "- two",
    ]


# -- citation markers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("It works [1].", (1,)),
        ("It works. [1]", (1,)),
        ("Both [1][3].", (1, 3)),
        ("Both [1] [3].", (1, 3)),
        ("A list [1, 3] and [2,4].", (1, 3, 2, 4)),
        ("```\ncode\n```\n[2]", (2,)),
        ("Repeated [2] and [2].", (2, 2)),
        ("Big [12].", (12,)),
        ("Not markers: [^1] [S1] [ 1 ] [x] [1-3] [] a[0]b", (0,)),
        ("Marked [unverified]", ()),
    ],
)
def test_citation_numbers(text: str, numbers: tuple[int, ...]) -> None:
    assert citation_numbers(text) == numbers


def test_strip_citations_takes_the_space_before_a_marker() -> None:
    assert strip_citations("It works [1]. Both [1][3]! List [1, 3]?") == "It works. Both! List?"
    assert strip_citations("Code:\n[2]") == "Code:"
    assert strip_citations("Keep [^1] and [S1].") == "Keep [^1] and [S1]."


@pytest.mark.parametrize(
    ("text", "moved"),
    [
        ("It works. [1]", "It works [1]."),
        ("It works! [1][2] Next.", "It works [1][2]! Next."),
        ("Really? [1, 2]", "Really [1, 2]?"),
        ("Like this: [3]\n\n```", "Like this [3]:\n\n```"),
        ("It works [1].", "It works [1]."),
        ("No stop [1] here", "No stop [1] here"),
    ],
)
def test_citations_before_stop(text: str, moved: str) -> None:
    assert citations_before_stop(text) == moved


def test_format_citations_round_trips() -> None:
    assert format_citations([3, 1, 3]) == "[3][1]"
    assert format_citations([]) == ""
    assert citation_numbers(format_citations([2, 5, 2])) == (2, 5)


def test_stem_strips_plural_and_verb_endings_without_eating_the_stem() -> None:
    from docsage.text import stem

    assert [stem(w) for w in ("files", "file", "matches", "accepts", "sorting", "returned")] == [
        "file",
        "file",
        "match",
        "accept",
        "sort",
        "return",
    ]
    assert stem("is") == "is" and stem("uses") == "use"
