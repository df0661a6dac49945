"""Hybrid search over the real SQLite store (both fusions), and the identifier reranker's
name matching. The fusion functions themselves: test_fusion.py."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from docsage.errors import ConfigError, UsageError
from docsage.ports import Reranker, Vector
from docsage.rerank import IdentifierReranker, name_match, query_names
from docsage.retrieve import FusionWeights, Retriever, SearchOptions, question_kind
from docsage.store.sqlite import SQLiteStore
from docsage.testing.reranker_contract import RerankerContract
from docsage.testing.store_contract import make_chunk, make_update, unit
from docsage.types import Hit

# -- hybrid search over the real store ------------------------------------------------------


class FixedEmbedder:
    """Returns one chosen vector for any query: the test decides what dense search sees."""

    name = "fixed"
    dim = 3

    def __init__(self, vector: Vector) -> None:
        self.vector = vector

    def embed(self, texts: Sequence[str]) -> Vector:
        return np.tile(self.vector, (len(texts), 1)).astype(np.float32)


class UnbuiltEmbedder(FixedEmbedder):
    name = "no-vectors-yet"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "index.sqlite")
    store.apply(
        "c",
        [
            make_update("c", "both.md", "alpha beta gamma delta"),  # lexical and dense
            make_update("c", "lexical.md", "alpha"),  # no vector: lexical only
            make_update("c", "dense.md", "omega"),  # no shared word: dense only
            make_update("c", "neither.md", "zeta"),  # no vector, no word
        ],
        [],
    )
    vectors = {"both.md": unit(0.6, 0.8, 0), "dense.md": unit(1, 0.1, 0)}
    store.put_vectors("fixed", [(store.chunks("c", s)[0].text_hash, v) for s, v in vectors.items()])
    try:
        yield store
    finally:
        store.close()


def search(
    store: SQLiteStore, mode: str = "hybrid", weights: FusionWeights | None = None
) -> list[Hit]:
    retriever = Retriever(store, FixedEmbedder(unit(1, 0, 0)), weights=weights)
    options = SearchOptions(k=10, mode=mode)  # type: ignore[arg-type]
    return retriever.search("alpha", "c", options).hits


RRF_EQUAL = FusionWeights(fusion="rrf", lexical=1.0, dense=1.0)


def test_rrf_fuses_lexical_only_and_dense_only_hits(store: SQLiteStore) -> None:
    lexical = [s.chunk.source for s in store.lexical_search("c", "alpha", 100)]
    assert lexical == ["lexical.md", "both.md"]  # BM25 favours the shorter chunk
    hits = {h.chunk.source: h for h in search(store, weights=RRF_EQUAL)}
    assert set(hits) == {"both.md", "lexical.md", "dense.md"}
    both, lex, dense = hits["both.md"], hits["lexical.md"], hits["dense.md"]
    assert (both.lexical_rank, both.dense_rank) == (2, 2)
    assert (lex.lexical_rank, lex.dense_rank) == (1, None)
    assert (dense.lexical_rank, dense.dense_rank) == (None, 1)
    assert both.score == pytest.approx(1 / 62 + 1 / 62)
    assert lex.score == pytest.approx(1 / 61)
    assert dense.score == pytest.approx(1 / 61)
    assert dense.dense_score == pytest.approx(float(unit(1, 0.1, 0)[0]), abs=1e-6)
    assert lex.dense_score is None and dense.lexical_score is None
    assert search(store, weights=RRF_EQUAL)[0].chunk.source == "both.md"


def test_rrf_weights_shift_the_fused_order(store: SQLiteStore) -> None:
    lexical_heavy = search(store, weights=FusionWeights(fusion="rrf", lexical=3.0, dense=1.0))
    assert [h.chunk.source for h in lexical_heavy] == ["both.md", "lexical.md", "dense.md"]
    assert lexical_heavy[1].score == pytest.approx(3 / 61)
    dense_heavy = search(store, weights=FusionWeights(fusion="rrf", lexical=1.0, dense=3.0))
    assert [h.chunk.source for h in dense_heavy] == ["both.md", "dense.md", "lexical.md"]
    dense_only = search(store, weights=FusionWeights(fusion="rrf", lexical=0.0, dense=1.0))
    assert dense_only[0].chunk.source == "dense.md"


def test_zscore_hybrid_over_the_store(store: SQLiteStore) -> None:
    # dense: dense.md 0.995, both.md 0.6 -> z = 1, -1; lexical: lexical.md, both.md -> 1, -1;
    # each list's missing candidate takes that list's lowest (z = -1). With 0.7 : 0.3,
    # dense.md = 0.4, lexical.md = -0.4, both.md = -1 -> min-max 1, 3/7, 0. RRF, by
    # contrast, puts both.md first for being in both lists (above).
    hits = search(store)
    assert [h.chunk.source for h in hits] == ["dense.md", "lexical.md", "both.md"]
    assert [h.score for h in hits] == pytest.approx([1.0, 3 / 7, 0.0])
    lexical_heavy = search(store, weights=FusionWeights(lexical=3.0, dense=1.0))
    assert [h.chunk.source for h in lexical_heavy] == ["lexical.md", "dense.md", "both.md"]
    assert [h.score for h in lexical_heavy] == pytest.approx([1.0, 1 / 3, 0.0])


def test_lexical_candidates_the_dense_list_missed_get_their_exact_cosine(
    store: SQLiteStore,
) -> None:
    [lexical_chunk] = store.chunks("c", "lexical.md")
    store.put_vectors("fixed", [(lexical_chunk.text_hash, unit(0, 0, 1))])
    retriever = Retriever(store, FixedEmbedder(unit(1, 0, 0)))
    hits = retriever.search("alpha", "c", SearchOptions(candidates=2)).hits
    by_source = {h.chunk.source: h for h in hits}
    assert [by_source["dense.md"].dense_rank, by_source["both.md"].dense_rank] == [1, 2]
    lex = by_source["lexical.md"]
    assert lex.dense_rank is None and lex.dense_score == pytest.approx(0.0, abs=1e-6)
    # its exact z, (0 - 0.7975) / 0.1975, is far below the list's lowest (z = -1)
    assert [h.chunk.source for h in hits] == ["dense.md", "both.md", "lexical.md"]


def test_fusion_settings_are_checked(store: SQLiteStore) -> None:
    with pytest.raises(ConfigError, match="DOCSAGE_FUSION"):
        Retriever(store, None, weights=FusionWeights(fusion="borda"))
    with pytest.raises(ConfigError, match="DOCSAGE_LEXICAL_WEIGHT"):
        FusionWeights(lexical=-1.0)
    with pytest.raises(ConfigError, match="one > 0"):
        FusionWeights(lexical=0.0, dense=0.0)


def test_single_modes(store: SQLiteStore) -> None:
    assert [h.chunk.source for h in search(store, "lexical")] == ["lexical.md", "both.md"]
    assert [h.chunk.source for h in search(store, "dense")] == ["dense.md", "both.md"]
    assert all(h.dense_rank is None for h in search(store, "lexical"))


def test_search_without_vectors_is_lexical(store: SQLiteStore) -> None:
    retriever = Retriever(store, UnbuiltEmbedder(unit(1, 0, 0)))
    result = retriever.search("alpha", "c", SearchOptions())
    assert result.dense_available is False
    assert [h.chunk.source for h in result.hits] == ["lexical.md", "both.md"]


def test_search_errors_name_the_remedy(store: SQLiteStore) -> None:
    with pytest.raises(UsageError, match="--mode lexical"):
        Retriever(store, None).search("alpha", "c", SearchOptions(mode="dense"))
    with pytest.raises(UsageError, match="unknown search mode"):
        search(store, "fuzzy")


def test_k_and_path_prefix(store: SQLiteStore) -> None:
    store.apply("c", [make_update("c", "sub/alpha.md", "alpha again")], [])
    retriever = Retriever(store, FixedEmbedder(unit(1, 0, 0)))
    assert len(retriever.search("alpha", "c", SearchOptions(k=1)).hits) == 1
    hits = retriever.search("alpha", "c", SearchOptions(path_prefix="sub/")).hits
    assert [h.chunk.source for h in hits] == ["sub/alpha.md"]


# -- reranking by names in the question ------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "names"),
    [
        ("How does str.partition work?", {"str.partition", "partition"}),
        ("what is os.path.join for", {"os.path.join", "path.join", "join"}),
        ("call read_config_file first", {"read_config_file"}),
        ("is HTTPServer threaded", {"httpserver"}),
        ("what does `dumps` return", {"dumps"}),
        ("sum the values of a list", set()),
        ("how do I use it", set()),
    ],
)
def test_query_names(question: str, names: set[str]) -> None:
    assert query_names(question) == names


@pytest.mark.parametrize(
    ("anchor", "names", "score"),
    [
        ("str.partition", {"str.partition", "partition"}, 1.0),
        ("STR.Partition", {"str.partition"}, 1.0),
        ("os.path.join", {"path.join", "join"}, 0.5),
        ("a.b.run", {"run"}, 0.25),  # short tail: weaker evidence
        ("str.partition", {"rpartition"}, 0.0),
        ("", {"x"}, 0.0),
        ("x", set(), 0.0),
    ],
)
def test_name_match(anchor: str, names: set[str], score: float) -> None:
    assert name_match(anchor, names) == score


def _hit(anchor: str, score: float) -> Hit:
    chunk = make_chunk("c", "api.md", f"text of {anchor}", anchor=anchor)
    return Hit(chunk=chunk, score=score)


def test_identifier_reranker_promotes_the_named_entry() -> None:
    hits = [
        _hit("str.rpartition", 0.03),
        _hit("bytes.partition", 0.015),
        _hit("str.partition", 0.02),
    ]
    reranked = IdentifierReranker().rerank("what does str.partition return?", hits)
    assert [h.chunk.anchor for h in reranked] == [
        "str.partition",
        "str.rpartition",
        "bytes.partition",
    ]
    assert [h.score for h in reranked] == pytest.approx([0.04, 0.03, 0.015 * 1.5])
    assert IdentifierReranker().rerank("plain words only", hits) == hits


def test_reranker_never_invents_hits() -> None:
    hits = [_hit("a.b", 0.5), _hit("c.d", 0.4)]
    reranked = IdentifierReranker(boost=3.0).rerank("c.d and a.b", hits)
    assert sorted(h.chunk.id for h in reranked) == sorted(h.chunk.id for h in hits)


def test_link_prior_is_log_damped_and_saturates_in_sparse_corpora() -> None:
    from docsage.retrieve import link_prior

    assert link_prior(0, 500, 3.0) == 1.0
    assert link_prior(500, 500, 3.0) == pytest.approx(4.0)
    assert link_prior(10, 500, 3.0) == pytest.approx(1 + 3 * math.log(11) / math.log(501))
    # five links in a corpus whose best-linked entry has five: no 4x boost
    assert link_prior(5, 5, 3.0) == pytest.approx(1 + 3 * math.log(6) / math.log(101))
    assert link_prior(5, 5, 0.0) == 1.0


def test_focus_query_drops_quoted_data_but_keeps_api_references() -> None:
    from docsage.retrieve import focus_query

    assert focus_query("divide each key `k` in dict `d2` by `d1`") == "divide each key in dict by"
    assert focus_query("what does `os.path.join` return") == "what does os.path.join return"
    assert focus_query("md5 of a file named 'filename.exe'") == "md5 of a file named"
    assert focus_query("`len()` of a list") == "len() of a list"
    assert focus_query("`x`") == "`x`"  # nothing left: the whole question is kept


@pytest.mark.parametrize(
    ("question", "heading", "matches"),
    [
        ("How do I configure logging?", "How do I configure logging?", True),
        ("how to configure logging", "How do I configure logging?", True),
        ("What should I put in user.name?", "What should I put in user.name?", True),
        ("configure logging", "logging.config: Logging configuration for handlers", False),
        ("sort a list of dicts by a key", "Sorting HOW TO", False),
    ],
)
def test_title_match_needs_a_near_exact_heading(question: str, heading: str, matches: bool) -> None:
    from docsage.retrieve import title_match
    from docsage.text import query_tokens

    assert (title_match(frozenset(query_tokens(question)), heading) > 0) is matches


def test_a_section_titled_with_the_question_outranks_a_heavily_linked_entry(
    tmp_path: Path,
) -> None:
    """The FAQ case: the in-link prior lifts a hub entry (here 30 links) above the section
    that answers the question word for word; the heading prior puts the answer first."""
    from dataclasses import replace as with_

    store = SQLiteStore(tmp_path / "index.sqlite")
    hub = make_update("c", "api.md", "logging configure logging handlers configure logging")
    faq = make_update("c", "faq.md", "Use the logging section of the configuration.")
    faq = with_(
        faq, chunks=[with_(faq.chunks[0], heading_path=("FAQ", "How do I configure logging?"))]
    )
    linkers = [make_update("c", f"p{i}.md", f"page {i}", links=["api.md#s0"]) for i in range(30)]
    store.apply("c", [hub, faq, *linkers], [])
    try:
        for title_weight, first in ((0.0, "api.md#s0"), (2.0, "faq.md#s0")):
            weights = FusionWeights(link_prior=3.0, title_prior=title_weight)
            hits = (
                Retriever(store, None, weights=weights)
                .search("How do I configure logging?", "c", SearchOptions(mode="lexical"))
                .hits
            )
            assert hits[0].chunk.ref == first
    finally:
        store.close()


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("How do I configure logging?", "conceptual"),
        ("What should I put in user.name?", "lookup"),  # it names code: a lookup
        ("Why does my query return duplicate rows?", "conceptual"),
        ("can I roll back a merge", "conceptual"),
        ("delete file `filename`", "lookup"),
        ("remove duplicated items from list of lists", "lookup"),
        ("how to call Session.merge()", "lookup"),
        ("copy the content of file 'file.txt' to file 'file2.txt'", "lookup"),
    ],
)
def test_question_kind(query: str, kind: str) -> None:
    assert question_kind(query) == kind


def test_each_prior_applies_to_its_kind_of_question(tmp_path: Path) -> None:
    """In-links lift the hub entry for a lookup and not for a question asked in words; the
    heading prior lifts the FAQ section for the question and not for a lookup."""
    from dataclasses import replace as with_

    store = SQLiteStore(tmp_path / "index.sqlite")
    hub = make_update("c", "api.md", "delete a file with remove")
    faq = make_update("c", "faq.md", "Use remove to delete a file.")
    faq = with_(faq, chunks=[with_(faq.chunks[0], heading_path=("FAQ", "How do I delete a file?"))])
    linkers = [make_update("c", f"p{i}.md", f"page {i}", links=["api.md#s0"]) for i in range(30)]
    store.apply("c", [hub, faq, *linkers], [])
    weights = FusionWeights(link_prior=3.0, title_prior=2.0)
    retriever = Retriever(store, None, weights=weights)
    try:
        for query, first in (
            ("delete file `name`", "api.md#s0"),
            ("How do I delete a file?", "faq.md#s0"),
        ):
            hits = retriever.search(query, "c", SearchOptions(mode="lexical")).hits
            assert hits[0].chunk.ref == first, query
    finally:
        store.close()


def test_history_pages_rank_below_the_reference_unless_the_question_is_about_a_change(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "index.sqlite")
    news = make_update("c", "whatsnew/3.11.md", "tomllib parses toml tomllib toml files")
    ref = make_update("c", "library/tomllib.md", "tomllib parses toml files")
    store.apply("c", [news, ref], [])
    try:
        retriever = Retriever(store, None, weights=FusionWeights(history_prior=0.5))
        lexical = SearchOptions(mode="lexical")
        top = retriever.search("parse toml files with tomllib", "c", lexical).hits[0]
        assert top.chunk.source == "library/tomllib.md"
        top = retriever.search("what changed for tomllib in 3.11", "c", lexical).hits[0]
        assert top.chunk.source == "whatsnew/3.11.md"
        plain = Retriever(store, None, weights=FusionWeights(history_prior=1.0))
        top = plain.search("parse toml files with tomllib", "c", lexical).hits[0]
        assert top.chunk.source == "whatsnew/3.11.md"  # what the prior corrects
    finally:
        store.close()


class TestIdentifierReranker(RerankerContract):
    @pytest.fixture
    def reranker(self) -> Reranker:
        return IdentifierReranker()


def test_a_lookup_asked_in_its_sections_own_title_finds_that_section(tmp_path: Path) -> None:
    """ "What should I put in user.name?" names code, so it is a lookup and the link prior
    applies; but the FAQ entry titled with the very question is its answer (git FAQ dev set:
    it ranked third under two hub pages). A lookup that only shares words with a heading is
    left to the lookup priors (``test_each_prior_applies_to_its_kind_of_question``)."""
    from dataclasses import replace as with_

    store = SQLiteStore(tmp_path / "index.sqlite")
    hub = make_update("c", "config.md", "user.name user name put the name in user.name")
    faq = make_update("c", "faq.md", "Your personal name, as you write it.")
    faq = with_(
        faq,
        chunks=[with_(faq.chunks[0], heading_path=("FAQ", "What should I put in user.name?"))],
    )
    linkers = [make_update("c", f"p{i}.md", f"page {i}", links=["config.md#s0"]) for i in range(30)]
    store.apply("c", [hub, faq, *linkers], [])
    retriever = Retriever(store, None, weights=FusionWeights(link_prior=3.0, title_prior=2.0))
    try:
        lexical = SearchOptions(mode="lexical")
        top = retriever.search("What should I put in user.name?", "c", lexical).hits[0]
        assert top.chunk.ref == "faq.md#s0"
        top = retriever.search("put user.name", "c", lexical).hits[0]
        assert top.chunk.ref == "config.md#s0"
    finally:
        store.close()
