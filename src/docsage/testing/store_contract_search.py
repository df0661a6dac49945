"""The search half of the Store contract: lexical and dense search (see ``store_contract``)."""

from __future__ import annotations

import numpy as np
import pytest

from docsage.ports import Store
from docsage.testing.store_fixtures import (
    MODEL,
    lexical_sources,
    make_update,
    unit,
)
from docsage.types import Chunk


class SearchContract:
    """Mixed into ``StoreContract``; uses its ``store`` fixture."""

    # -- lexical search ------------------------------------------------------------------

    def _code_corpus(self, store: Store) -> None:
        store.apply(
            "c",
            [
                make_update("c", "join.md", "Use os.path.join(a, b) to combine parts."),
                make_update("c", "loose.md", "The os module: a path is what you join together."),
                make_update("c", "snake.md", "Call read_config_file before starting."),
                make_update("c", "camel.md", "The HttpClientSession keeps connections alive."),
                make_update("c", "other.md", "Unrelated prose about gardening."),
            ],
            [],
        )

    @pytest.mark.parametrize(
        ("query", "source"),
        [
            ("os.path.join", "join.md"),
            ("path.join", "join.md"),
            ("read_config_file", "snake.md"),
            ("config", "snake.md"),
            ("read config file", "snake.md"),
            ("HttpClientSession", "camel.md"),
            ("client session", "camel.md"),
            ("httpclientsession", "camel.md"),
        ],
    )
    def test_lexical_finds_identifiers_and_their_parts(
        self, store: Store, query: str, source: str
    ) -> None:
        self._code_corpus(store)
        assert lexical_sources(store, "c", query)[0] == source

    def test_lexical_finds_a_part_of_a_dotted_name(self, store: Store) -> None:
        self._code_corpus(store)
        assert set(lexical_sources(store, "c", "join")) == {"join.md", "loose.md"}

    def test_lexical_scores_are_descending_and_k_is_respected(self, store: Store) -> None:
        self._code_corpus(store)
        results = store.lexical_search("c", "os path join", 10)
        scores = [s.score for s in results]
        assert scores == sorted(scores, reverse=True)
        assert len(store.lexical_search("c", "os path join", 1)) == 1

    @pytest.mark.parametrize(
        "query", ["", "   ", "the of and", '"', "a\"b' OR * NEAR(x) -y ^z", "(((", "AND OR NOT"]
    )
    def test_lexical_never_raises_on_odd_queries(self, store: Store, query: str) -> None:
        self._code_corpus(store)
        assert isinstance(store.lexical_search("c", query, 5), list)

    def test_lexical_ignores_stopword_only_queries(self, store: Store) -> None:
        store.apply("c", [make_update("c", "a.md", "what is this and how does it work")], [])
        assert store.lexical_search("c", "what is the", 5) == []

    def test_lexical_path_prefix_is_literal(self, store: Store) -> None:
        sources = [
            "docs/a.md",
            "docs_old/b.md",
            "docsXold/c.md",
            "docs%/d.md",
            "docs%x/e.md",
            "Docs/f.md",
            "src/docs/g.md",
            "docs\\h.md",
        ]
        store.apply("c", [make_update("c", s, f"needle in {s}") for s in sources], [])

        def found(prefix: str) -> set[str]:
            return set(lexical_sources(store, "c", "needle", prefix))

        assert found("") == set(sources)
        assert found("docs/") == {"docs/a.md"}
        assert found("docs_") == {"docs_old/b.md"}
        assert found("docs%/") == {"docs%/d.md"}
        assert found("docs%") == {"docs%/d.md", "docs%x/e.md"}
        assert found("docs\\") == {"docs\\h.md"}
        assert found("Docs/") == {"Docs/f.md"}
        assert found("nowhere/") == set()

    # -- dense search --------------------------------------------------------------------

    def _vector_corpus(self, store: Store) -> dict[str, Chunk]:
        texts = {
            "docs/east.md": "east",
            "docs/north-east.md": "north east",
            "docs/north.md": "north",
            "src/up.md": "up",
            "docs/novector.md": "no vector",
        }
        store.apply("c", [make_update("c", s, t) for s, t in texts.items()], [])
        chunks = {s: store.chunks("c", s)[0] for s in texts}
        store.put_vectors(
            MODEL,
            [
                (chunks["docs/east.md"].text_hash, unit(1, 0, 0)),
                (chunks["docs/north-east.md"].text_hash, unit(0.8, 0.6, 0)),
                (chunks["docs/north.md"].text_hash, unit(0, 1, 0)),
                (chunks["src/up.md"].text_hash, unit(0.1, 0, 1)),
            ],
        )
        return chunks

    def test_dense_orders_by_cosine(self, store: Store) -> None:
        chunks = self._vector_corpus(store)
        results = store.dense_search("c", MODEL, unit(1, 0.1, 0), 10)
        query = unit(1, 0.1, 0)
        expected = sorted(
            (
                (s, float(np.dot(query, v)))
                for s, v in [
                    ("docs/east.md", unit(1, 0, 0)),
                    ("docs/north-east.md", unit(0.8, 0.6, 0)),
                    ("docs/north.md", unit(0, 1, 0)),
                    ("src/up.md", unit(0.1, 0, 1)),
                ]
            ),
            key=lambda pair: -pair[1],
        )
        assert [s.chunk.source for s in results] == [s for s, _ in expected]
        assert [s.score for s in results] == pytest.approx([v for _, v in expected], abs=1e-5)
        assert results[0].chunk == chunks["docs/east.md"]

    def test_dense_scores_equal_dense_search_for_the_chunks_asked(self, store: Store) -> None:
        chunks = self._vector_corpus(store)
        query = unit(1, 0.1, 0)
        ranked = {s.chunk.id: s.score for s in store.dense_search("c", MODEL, query, 10)}
        asked = [chunks["docs/north.md"].id, chunks["src/up.md"].id]
        assert store.dense_scores("c", MODEL, query, asked) == pytest.approx(
            {cid: ranked[cid] for cid in asked}, abs=1e-6
        )
        # no vector, another model, another collection, an unknown id: left out
        assert store.dense_scores("c", MODEL, query, [chunks["docs/novector.md"].id]) == {}
        assert store.dense_scores("c", "another-model", query, asked) == {}
        assert store.dense_scores("other", MODEL, query, asked) == {}
        assert store.dense_scores("c", MODEL, query, ["no-such-id"]) == {}
        assert store.dense_scores("c", MODEL, query, []) == {}

    def test_dense_respects_k_and_path_prefix(self, store: Store) -> None:
        self._vector_corpus(store)
        query = unit(0, 0, 1)
        assert [s.chunk.source for s in store.dense_search("c", MODEL, query, 1)] == ["src/up.md"]
        assert len(store.dense_search("c", MODEL, query, 2)) == 2
        docs = store.dense_search("c", MODEL, query, 10, "docs/")
        assert {s.chunk.source for s in docs} == {
            "docs/east.md",
            "docs/north-east.md",
            "docs/north.md",
        }
        assert store.dense_search("c", MODEL, query, 10, "nowhere/") == []
        assert store.dense_search("c", "another-model", query, 10) == []

    def test_dense_path_prefix_is_literal(self, store: Store) -> None:
        sources = ["docs_x/a.md", "docsXx/b.md", "Docs_x/c.md"]
        store.apply("c", [make_update("c", s, f"text of {s}") for s in sources], [])
        store.put_vectors(
            MODEL, [(store.chunks("c", s)[0].text_hash, unit(1, 0, 0)) for s in sources]
        )
        results = store.dense_search("c", MODEL, unit(1, 0, 0), 10, "docs_")
        assert [s.chunk.source for s in results] == ["docs_x/a.md"]

    def test_dense_follows_index_changes(self, store: Store) -> None:
        self._vector_corpus(store)
        query = unit(1, 0, 0)
        assert store.dense_search("c", MODEL, query, 1)[0].chunk.source == "docs/east.md"
        store.apply("c", [], ["docs/east.md"])
        assert "docs/east.md" not in {
            s.chunk.source for s in store.dense_search("c", MODEL, query, 10)
        }
        [novector] = store.chunks("c", "docs/novector.md")
        store.put_vectors(MODEL, [(novector.text_hash, unit(1, 0, 0.01))])
        assert store.dense_search("c", MODEL, query, 1)[0].chunk.source == "docs/novector.md"
        store.apply("c", [make_update("c", "docs/east.md", "east")], [])  # same text comes back
        top = {s.chunk.source for s in store.dense_search("c", MODEL, query, 2)}
        assert top == {"docs/east.md", "docs/novector.md"}
