"""The behaviour every ``Store`` must have, as a pytest base class (haystack's pattern).

An adapter's test module subclasses ``StoreContract`` and says how to open its store::

    class TestMyStore(StoreContract):
        def make_store(self, location: Path) -> Store:
            return MyStore(location)

and runs every test here unchanged. ``make_store`` called twice with the same ``location``
must open the same data (a second connection), which is how the contract checks what other
readers see during a write and that writes persist. It covers both halves of the port: the
``IndexWriter`` (apply, vectors) here, the ``IndexReader`` (search, chunks, links) here and in
``SearchContract`` (``store_contract_search``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.ports import FileUpdate, Store
from docsage.testing.store_contract_search import SearchContract
from docsage.testing.store_fixtures import (
    MODEL,
    lexical_sources,
    lexical_texts,
    make_chunk,
    make_update,
    snapshot,
    unit,
)

__all__ = ["MODEL", "StoreContract", "make_chunk", "make_update", "snapshot", "unit"]


class StoreContract(SearchContract):
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

        def interrupted() -> FileUpdate:
            raise KeyboardInterrupt

        updates = (interrupted() for _ in range(1))  # fails on the first update it yields
        with pytest.raises(KeyboardInterrupt):
            store.apply("c", updates, ["a.md"])
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
                "c",
                "guide/intro.md",
                'Text with ünïcode, "quotes" and\nnew lines.',
                anchor="getting-started",
                title="Getting started",
                heading_path=("Guide", "Intro — part 1", "Getting started"),
                kind="section",
                lines=(3, 17),
                ordinal=0,
            ),
            make_chunk(
                "c",
                "guide/intro.md",
                "def f(x):\n    return x",
                anchor="pkg.mod.f",
                title="f",
                heading_path=(),
                kind="function",
                lines=None,
                ordinal=1,
            ),
            make_chunk(
                "c",
                "guide/intro.md",
                "A record body",
                anchor="doc-42",
                title="",
                heading_path=("",),
                kind="record",
                lines=(9, 9),
                ordinal=2,
            ),
        ]
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

    def test_term_counts_are_per_collection_document_frequencies(self, store: Store) -> None:
        assert store.term_counts("c", ["join"]) == {"join": 0}  # no collection yet
        store.apply(
            "c",
            [
                make_update("c", "a.md", "join two paths", "split a path"),
                make_update("c", "b.md", "join strings"),
            ],
            [],
        )
        store.apply("other", [make_update("other", "z.md", "cassandra join")], [])
        counts = store.term_counts("c", ["join", "path", "cassandra"])
        assert counts == {"join": 2, "path": 2, "cassandra": 0}
        assert store.term_counts("other", ["cassandra", "split"]) == {"cassandra": 1, "split": 0}
        store.apply("c", [], ["b.md"])
        assert store.term_counts("c", ["join"]) == {"join": 1}

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
