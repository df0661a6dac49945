"""The behaviour every ``Embedder`` must have, as a pytest base class.

An adapter's test module subclasses ``EmbedderContract`` and provides an ``embedder``
fixture; every test here then runs unchanged: one L2-normalised float32 row per text, in the
order given (adapters sort by length to batch, and must put rows back), the same vector for
the same text whatever its batch, more texts than one batch, and an empty input giving an
empty matrix. An adapter that batches should be made with a batch of at most ``BATCH`` texts
(``batch_size=8``), so that ``MANY`` spans several batches; the contract checks that where the
adapter has a ``batch_size``.
"""

from __future__ import annotations

import numpy as np

from docsage.ports import Embedder, Vector

# Lengths chosen so that sorting by length reorders them, and more texts than a small batch.
TEXTS = [
    "a much longer passage about how retries back off between attempts, doubling each time",
    "short",
    "a medium sentence about retries",
    "x",
    *[f"filler text number {i} about configuration" for i in range(40)],
]

BATCH = 8
# More than three batches of BATCH, their lengths shuffled (i * 7 % 29 words), so that a
# length sort moves texts across batch boundaries.
MANY = [" ".join([f"w{i}"] + ["retry"] * (i * 7 % 29)) for i in range(3 * BATCH + 5)]


def _differing_rows(got: Vector, want: Vector) -> list[int]:
    """Rows where ``got`` is not ``want``'s vector (cosine below 0.999)."""
    return [i for i in range(len(want)) if float(got[i] @ want[i]) <= 0.999]


class EmbedderContract:
    """Subclass as ``Test<YourEmbedder>`` and provide an ``embedder`` fixture."""

    def test_it_is_an_embedder(self, embedder: Embedder) -> None:
        vectors = embedder.embed(["x"])  # a remote embedder may learn its dim from a reply
        assert isinstance(embedder.name, str) and embedder.name
        assert embedder.dim > 0 and vectors.shape == (1, embedder.dim)

    def test_one_normalised_row_per_text(self, embedder: Embedder) -> None:
        vectors = embedder.embed(TEXTS)
        assert vectors.shape == (len(TEXTS), embedder.dim) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)

    def test_rows_come_back_in_the_order_given(self, embedder: Embedder) -> None:
        together = embedder.embed(TEXTS)
        alone = np.vstack([embedder.embed([text]) for text in TEXTS])
        wrong = _differing_rows(together, alone)
        assert not wrong, f"rows {wrong} are other texts' vectors (order not restored)"
        backwards = embedder.embed(TEXTS[::-1])[::-1]
        assert not _differing_rows(backwards, alone), "reversing the input changed the vectors"

    def test_more_texts_than_a_batch(self, embedder: Embedder) -> None:
        batch = getattr(embedder, "batch_size", None)
        if isinstance(batch, int):
            assert batch < len(MANY) // 2, f"make the adapter with batch_size={BATCH} or less"
        together = embedder.embed(MANY)
        assert together.shape == (len(MANY), embedder.dim)
        assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-3)
        in_threes = np.vstack([embedder.embed(MANY[i : i + 3]) for i in range(0, len(MANY), 3)])
        wrong = _differing_rows(together, in_threes)
        assert not wrong, f"rows {wrong} differ from the same texts embedded three at a time"

    def test_the_same_text_gets_the_same_vector_in_any_batch(self, embedder: Embedder) -> None:
        first = embedder.embed(["short", "a medium sentence about retries"])
        second = embedder.embed(["a medium sentence about retries", "short", "x"])
        assert float(first[0] @ second[1]) > 0.999 and float(first[1] @ second[0]) > 0.999

    def test_empty_input_is_an_empty_matrix(self, embedder: Embedder) -> None:
        assert embedder.embed([]).shape[0] == 0  # before any other call, too
        embedder.embed(["x"])
        empty = embedder.embed([])
        assert empty.shape == (0, embedder.dim)
