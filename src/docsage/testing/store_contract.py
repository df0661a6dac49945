"""The behaviour every ``Store`` must have, as a pytest base class (haystack's pattern).

An adapter's test module subclasses ``StoreContract`` and says how to open its store::

    class TestMyStore(StoreContract):
        def make_store(self, location: Path) -> Store:
            return MyStore(location)

and runs every test here unchanged. ``make_store`` called twice with the same ``location``
must open the same data (a second connection), which is how the contract checks what other
readers see during a write and that writes persist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from docsage.ports import FileUpdate, Store, Vector
from docsage.types import Chunk, Document, SectionKind

MODEL = "contract-model"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_chunk(
    collection: str,
    source: str,
    text: str,
    *,
    anchor: str = "",
    ordinal: int = 0,
    title: str = "",
    heading_path: tuple[str, ...] = (),
    kind: SectionKind = "section",
    lines: tuple[int, int] | None = (1, 1),
) -> Chunk:
    """A chunk whose ``text_hash`` is the hash of its text and whose id is unique to it."""
    text_hash = _sha(text)
    return Chunk(
        id=_sha(f"{collection}\0{source}\0{anchor}\0{ordinal}\0{text_hash}")[:24],
        collection=collection,
        source=source,
        anchor=anchor,
        title=title,
        heading_path=heading_path,
        text=text,
        kind=kind,
        line_start=lines[0] if lines else None,
        line_end=lines[1] if lines else None,
        ordinal=ordinal,
        text_hash=text_hash,
    )


def make_update(
    collection: str, source: str, *texts: str, version: str = "1", links: Sequence[str] = ()
) -> FileUpdate:
    """A document whose chunks are ``texts`` in order (anchors ``s0``, ``s1``...)."""
    chunks = [
        make_chunk(collection, source, text, anchor=f"s{i}", ordinal=i, lines=(i + 1, i + 1))
        for i, text in enumerate(texts)
    ]
    document = Document(
        collection=collection,
        source=source,
        content_hash=_sha(f"{version}\0{source}\0" + "\0".join(texts)),
        title=source,
        size=sum(len(t) for t in texts),
    )
    return FileUpdate(document=document, chunks=chunks, links=links)


def unit(*values: float) -> Vector:
    vector = np.asarray(values, dtype=np.float32)
    normalised: Vector = vector / np.linalg.norm(vector)
    return normalised


def lexical_sources(store: Store, collection: str, query: str, prefix: str = "") -> list[str]:
    return [s.chunk.source for s in store.lexical_search(collection, query, 50, prefix)]


def lexical_texts(store: Store, collection: str, query: str) -> list[str]:
    return [s.chunk.text for s in store.lexical_search(collection, query, 50)]


def snapshot(store: Store, collection: str, queries: Sequence[str]) -> object:
    """Everything a reader can observe about a collection, for before/after comparisons."""
    documents = store.documents(collection)
    return (
        documents,
        store.index_version(collection),
        {source: store.chunks(collection, source) for source in sorted(documents)},
        {q: [s.chunk.id for s in store.lexical_search(collection, q, 50)] for q in queries},
        [(c.name, c.documents, c.chunks, c.index_version) for c in store.collections()],
        sorted(c.id for c in store.chunks_missing_vectors(collection, MODEL)),
        store.link_counts(collection),
    )


class StoreContract:
    """Subclass as ``Test<YourStore>`` and implement ``make_store``."""

    def make_store(self, location: Path) -> Store:
        raise NotImplementedError("a StoreContract subclass must implement make_store")

    @pytest.fixture
    def location(self, tmp_path: Path) -> Path:
        return tmp_path / "store"

    @pytest.fixture
    def store(self, location: Path) -> Iterator[Store]:
        store = self.make_store(location)
        try:
            yield store
        finally:
            store.close()

    # -- apply ---------------------------------------------------------------------------

    def test_empty_store(self, store: Store) -> None:
        assert store.documents("c") == {}
        assert store.index_version("c") == 0
        assert store.collections() == []
        assert store.chunks("c", "a.md") == []
        assert store.lexical_search("c", "anything", 10) == []
        assert store.dense_search("c", MODEL, unit(1, 0, 0), 10) == []
        assert store.chunks_missing_vectors("c", MODEL) == []

    def test_apply_inserts_documents_and_chunks_and_bumps_version(self, store: Store) -> None:
        first = make_update("c", "a.md", "alpha one", "alpha two")
        second = make_update("c", "b.md", "bravo")
        assert store.apply("c", [first, second], []) == 1
        assert store.documents("c") == {
            "a.md": first.document.content_hash,
            "b.md": second.document.content_hash,
        }
        assert store.chunks("c", "a.md") == list(first.chunks)
        assert store.chunks("c", "b.md") == list(second.chunks)
        assert store.index_version("c") == 1
        assert store.apply("c", [make_update("c", "d.md", "delta")], []) == 2
        assert store.index_version("c") == 2
        [info] = store.collections()
        assert (info.name, info.documents, info.chunks, info.index_version) == ("c", 3, 4, 2)

    def test_apply_replacing_a_source_drops_its_old_chunks(self, store: Store) -> None:
        store.apply("c", [make_update("c", "a.md", "oldword one", "oldword two", "oldword 3")], [])
        store.apply("c", [make_update("c", "b.md", "neighbour oldword")], [])
        new = make_update("c", "a.md", "newword only", version="2")
        store.apply("c", [new], [])
        assert store.chunks("c", "a.md") == list(new.chunks)
        assert store.documents("c")["a.md"] == new.document.content_hash
        assert lexical_sources(store, "c", "oldword") == ["b.md"]
        assert lexical_sources(store, "c", "newword") == ["a.md"]
        assert {c.source for c in store.chunks_missing_vectors("c", MODEL)} == {"a.md", "b.md"}
        assert len(store.chunks_missing_vectors("c", MODEL)) == 2

    def test_removed_sources_are_deleted(self, store: Store) -> None:
        store.apply(
            "c", [make_update("c", "a.md", "gone text"), make_update("c", "b.md", "kept text")], []
        )
        version = store.apply("c", [], ["a.md", "never-existed.md"])
        assert version == 2
        assert set(store.documents("c")) == {"b.md"}
        assert store.chunks("c", "a.md") == []
        assert lexical_sources(store, "c", "text") == ["b.md"]
        assert lexical_sources(store, "c", "gone") == []
        assert [c.source for c in store.chunks_missing_vectors("c", MODEL)] == ["b.md"]

    def test_remove_and_update_in_one_call(self, store: Store) -> None:
        store.apply("c", [make_update("c", "a.md", "first")], [])
        again = make_update("c", "a.md", "second", version="2")
        store.apply("c", [again], ["a.md"])
        assert store.chunks("c", "a.md") == list(again.chunks)

    def test_updates_generator_is_consumed(self, store: Store) -> None:
        def updates() -> Iterator[FileUpdate]:
            for i in range(5):
                yield make_update("c", f"f{i}.md", f"file number {i}")

        store.apply("c", updates(), [])
        assert len(store.documents("c")) == 5

    # -- atomicity -----------------------------------------------------------------------

    def _seed(self, store: Store) -> None:
        store.apply(
            "c",
            [
                make_update("c", "a.md", "apple text", "apple more"),
                make_update("c", "b.md", "banana text", links=["a.md#s0", "a.md"]),
            ],
            [],
        )
        store.apply("other", [make_update("other", "z.md", "zebra text")], [])

    def test_failing_updates_leave_the_store_unchanged(self, store: Store) -> None:
        self._seed(store)
        queries = ["apple", "banana", "cherry", "text"]
        before = snapshot(store, "c", queries)
        other_before = snapshot(store, "other", ["zebra"])

        def updates() -> Iterator[FileUpdate]:
            yield make_update("c", "a.md", "cherry replaces apple", version="2", links=["x.md"])
            yield make_update("c", "new.md", "cherry new file", links=["b.md"])
            raise RuntimeError("parser exploded midway")

        with pytest.raises(RuntimeError, match="exploded"):
            store.apply("c", updates(), ["b.md"])
        assert snapshot(store, "c", queries) == before
        assert snapshot(store, "other", ["zebra"]) == other_before
        # The store still takes writes after a failed one.
        assert store.apply("c", [make_update("c", "new.md", "cherry")], []) == 2
        assert lexical_sources(store, "c", "cherry") == ["new.md"]

    def test_failure_before_the_first_update_changes_nothing(self, store: Store) -> None:
        self._seed(store)
        before = snapshot(store, "c", ["apple", "banana"])

        def updates() -> Iterator[FileUpdate]:
            raise KeyboardInterrupt
            yield  # pragma: no cover

        with pytest.raises(KeyboardInterrupt):
            store.apply("c", updates(), ["a.md"])
        assert snapshot(store, "c", ["apple", "banana"]) == before

    def test_other_readers_see_the_old_index_until_apply_returns(
        self, store: Store, location: Path
    ) -> None:
        self._seed(store)
        reader = self.make_store(location)
        try:
            before = snapshot(reader, "c", ["apple", "cherry"])
            seen: list[object] = []

            def updates() -> Iterator[FileUpdate]:
                yield make_update("c", "a.md", "cherry replaces apple", version="2")
                seen.append(snapshot(reader, "c", ["apple", "cherry"]))
                yield make_update("c", "c.md", "cherry two")

            store.apply("c", updates(), ["b.md"])
            assert seen == [before]
            assert set(reader.documents("c")) == {"a.md", "c.md"}
            assert sorted(lexical_sources(reader, "c", "cherry")) == ["a.md", "c.md"]
        finally:
            reader.close()

    def test_writes_persist_across_reopening(self, location: Path) -> None:
        store = self.make_store(location)
        try:
            self._seed(store)
            vector = unit(1, 2, 3)
            [chunk] = store.chunks("c", "b.md")
            store.put_vectors(MODEL, [(chunk.text_hash, vector)])
            expected = snapshot(store, "c", ["apple", "banana"])
        finally:
            store.close()
        reopened = self.make_store(location)
        try:
            assert snapshot(reopened, "c", ["apple", "banana"]) == expected
            [hit] = reopened.dense_search("c", MODEL, vector, 1)
            assert hit.chunk == chunk
        finally:
            reopened.close()

    # -- collections ---------------------------------------------------------------------

    def test_collections_are_isolated(self, store: Store) -> None:
        store.apply("a", [make_update("a", "same.md", "aardvark shared words")], [])
        store.apply("b", [make_update("b", "same.md", "bison shared words")], [])
        for collection in ("a", "b"):
            [chunk] = store.chunks(collection, "same.md")
            store.put_vectors(MODEL, [(chunk.text_hash, unit(1, 0, 0))])
        assert lexical_texts(store, "a", "shared") == ["aardvark shared words"]
        assert lexical_texts(store, "b", "shared") == ["bison shared words"]
        assert store.lexical_search("b", "aardvark", 10) == []
        dense_b = store.dense_search("b", MODEL, unit(1, 0, 0), 10)
        assert [s.chunk.text for s in dense_b] == ["bison shared words"]
        assert store.documents("a") != store.documents("b")
        assert [c.text for c in store.chunks("b", "same.md")] == ["bison shared words"]
        store.apply("a", [], ["same.md"])
        assert store.documents("a") == {}
        assert [c.text for c in store.chunks("b", "same.md")] == ["bison shared words"]
        assert store.index_version("a") == 2
        assert store.index_version("b") == 1
        assert store.index_version("never") == 0
        infos = {c.name: (c.documents, c.chunks, c.index_version) for c in store.collections()}
        assert infos == {"a": (0, 0, 2), "b": (1, 1, 1)}

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
            "docs/a.md", "docs_old/b.md", "docsXold/c.md", "docs%/d.md", "docs%x/e.md",
            "Docs/f.md", "src/docs/g.md", "docs\\h.md",
        ]  # fmt: skip
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
            ((s, float(np.dot(query, v))) for s, v in [
                ("docs/east.md", unit(1, 0, 0)), ("docs/north-east.md", unit(0.8, 0.6, 0)),
                ("docs/north.md", unit(0, 1, 0)), ("src/up.md", unit(0.1, 0, 1)),
            ]),
            key=lambda pair: -pair[1],
        )  # fmt: skip
        assert [s.chunk.source for s in results] == [s for s, _ in expected]
        assert [s.score for s in results] == pytest.approx([v for _, v in expected], abs=1e-5)
        assert results[0].chunk == chunks["docs/east.md"]

    def test_dense_respects_k_and_path_prefix(self, store: Store) -> None:
        self._vector_corpus(store)
        query = unit(0, 0, 1)
        assert [s.chunk.source for s in store.dense_search("c", MODEL, query, 1)] == ["src/up.md"]
        assert len(store.dense_search("c", MODEL, query, 2)) == 2
        docs = store.dense_search("c", MODEL, query, 10, "docs/")
        assert {s.chunk.source for s in docs} == {
            "docs/east.md", "docs/north-east.md", "docs/north.md"
        }  # fmt: skip
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

    # -- vectors -------------------------------------------------------------------------

    def test_missing_vectors_and_put_vectors(self, store: Store) -> None:
        store.apply(
            "c",
            [
                make_update("c", "a.md", "shared text", "only in a"),
                make_update("c", "b.md", "shared text"),
            ],
            [],
        )
        store.apply("d", [make_update("d", "x.md", "shared text")], [])
        missing = store.chunks_missing_vectors("c", MODEL)
        assert sorted(c.text for c in missing) == ["only in a", "shared text", "shared text"]
        shared = next(c for c in missing if c.text == "shared text")
        store.put_vectors(MODEL, [(shared.text_hash, unit(1, 0))])
        # One vector per text hash serves every chunk with that text, in every collection.
        assert [c.text for c in store.chunks_missing_vectors("c", MODEL)] == ["only in a"]
        assert store.chunks_missing_vectors("d", MODEL) == []
        assert len(store.chunks_missing_vectors("c", "other-model")) == 3
        assert len(store.dense_search("c", MODEL, unit(1, 0), 10)) == 2
        assert len(store.dense_search("d", MODEL, unit(1, 0), 10)) == 1

    def test_putting_a_vector_twice_is_harmless(self, store: Store) -> None:
        store.apply("c", [make_update("c", "a.md", "text")], [])
        [chunk] = store.chunks("c", "a.md")
        store.put_vectors(MODEL, [(chunk.text_hash, unit(1, 0))])
        store.put_vectors(MODEL, [(chunk.text_hash, unit(1, 0)), (chunk.text_hash, unit(1, 0))])
        store.put_vectors(MODEL, [])
        assert store.chunks_missing_vectors("c", MODEL) == []
        [hit] = store.dense_search("c", MODEL, unit(1, 0), 10)
        assert hit.chunk == chunk
        assert hit.score == pytest.approx(1.0, abs=1e-5)

    def test_vectors_survive_reingesting_the_same_text(self, store: Store) -> None:
        store.apply("c", [make_update("c", "a.md", "stable text")], [])
        [chunk] = store.chunks("c", "a.md")
        store.put_vectors(MODEL, [(chunk.text_hash, unit(0, 1))])
        store.apply("c", [], ["a.md"])
        store.apply("c", [make_update("c", "renamed.md", "stable text")], [])
        assert store.chunks_missing_vectors("c", MODEL) == []
        [hit] = store.dense_search("c", MODEL, unit(0, 1), 10)
        assert hit.chunk.source == "renamed.md"

    # -- chunks and provenance -----------------------------------------------------------

    def test_chunks_come_back_in_ordinal_order_and_by_anchor(self, store: Store) -> None:
        chunks = [
            make_chunk("c", "a.md", f"part {i}", anchor="intro" if i < 2 else "usage", ordinal=i)
            for i in range(5)
        ]
        shuffled = [chunks[i] for i in (3, 0, 4, 1, 2)]
        document = make_update("c", "a.md", "x").document
        store.apply("c", [FileUpdate(document=document, chunks=shuffled)], [])
        assert store.chunks("c", "a.md") == chunks
        assert store.chunks("c", "a.md", "usage") == chunks[2:]
        assert store.chunks("c", "a.md", "intro") == chunks[:2]
        assert store.chunks("c", "a.md", "missing") == []
        assert store.chunks("c", "b.md") == []
        assert store.chunks("other", "a.md") == []

    def test_provenance_round_trips(self, store: Store) -> None:
        chunks = [
            make_chunk(
                "c", "guide/intro.md", "Text with ünïcode, \"quotes\" and\nnew lines.",
                anchor="getting-started", title="Getting started",
                heading_path=("Guide", "Intro — part 1", "Getting started"), kind="section",
                lines=(3, 17), ordinal=0,
            ),
            make_chunk(
                "c", "guide/intro.md", "def f(x):\n    return x", anchor="pkg.mod.f",
                title="f", heading_path=(), kind="function", lines=None, ordinal=1,
            ),
            make_chunk(
                "c", "guide/intro.md", "A record body", anchor="doc-42", title="",
                heading_path=("",), kind="record", lines=(9, 9), ordinal=2,
            ),
        ]  # fmt: skip
        document = make_update("c", "guide/intro.md", "x").document
        store.apply("c", [FileUpdate(document=document, chunks=chunks)], [])
        back = store.chunks("c", "guide/intro.md")
        assert back == chunks
        assert isinstance(back[0].heading_path, tuple)
        assert back[0].lines == (3, 17)
        assert back[1].lines is None
        assert back[0].ref == "guide/intro.md#getting-started"
        [hit] = store.lexical_search("c", "quotes", 5)
        assert hit.chunk == chunks[0]
        assert store.lexical_search("c", "pkg.mod.f", 5)[0].chunk == chunks[1]

    # -- links ---------------------------------------------------------------------------

    def test_link_counts_count_linking_sources(self, store: Store) -> None:
        assert store.link_counts("c") == {}
        store.apply(
            "c",
            [
                make_update("c", "a.md", "a", links=["api.md#join", "api.md"]),
                make_update("c", "b.md", "b", links=["api.md#join", "api.md#join"]),
                make_update("c", "api.md", "api"),
            ],
            [],
        )
        store.apply("other", [make_update("other", "z.md", "z", links=["api.md#join"])], [])
        assert store.link_counts("c") == {"api.md#join": 2, "api.md": 1}
        assert store.link_counts("other") == {"api.md#join": 1}

    def test_link_counts_follow_replacements_and_removals(self, store: Store) -> None:
        store.apply(
            "c",
            [
                make_update("c", "a.md", "a", links=["api.md#join"]),
                make_update("c", "b.md", "b", links=["api.md#join"]),
            ],
            [],
        )
        assert store.link_counts("c") == {"api.md#join": 2}
        store.apply("c", [make_update("c", "a.md", "a2", version="2", links=["api.md#split"])], [])
        assert store.link_counts("c") == {"api.md#join": 1, "api.md#split": 1}
        store.apply("c", [], ["b.md"])
        assert store.link_counts("c") == {"api.md#split": 1}
