"""The behaviour every ``Embedder`` must have, as a pytest base class.

An adapter's test module subclasses ``EmbedderContract`` and provides an ``embedder``
fixture; every test here then runs unchanged: one L2-normalised float32 row per text, in the
order given (adapters sort by length to batch, and must put rows back), the same vector for
the same text whatever its batch, and an empty input giving an empty matrix.
"""

from __future__ import annotations

import numpy as np

from docsage.ports import Embedder

# Lengths chosen so that sorting by length reorders them, and more texts than a small batch.
TEXTS = [
    "a much longer passage about how retries back off between attempts, doubling each time",
    "short",
    "a medium sentence about retries",
    "x",
    *[f"filler text number {i} about configuration" for i in range(40)],
]


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
        for i in (0, 1, 2, 3, len(TEXTS) - 1):
            alone = embedder.embed([TEXTS[i]])[0]
            assert float(together[i] @ alone) > 0.999, f"row {i} is another text's vector"

    def test_the_same_text_gets_the_same_vector_in_any_batch(self, embedder: Embedder) -> None:
        first = embedder.embed(["short", "a medium sentence about retries"])
        second = embedder.embed(["a medium sentence about retries", "short", "x"])
        assert float(first[0] @ second[1]) > 0.999 and float(first[1] @ second[0]) > 0.999

    def test_empty_input_is_an_empty_matrix(self, embedder: Embedder) -> None:
        empty = embedder.embed([])
        assert empty.shape[0] == 0
