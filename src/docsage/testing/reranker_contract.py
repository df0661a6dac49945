"""The behaviour every ``Reranker`` must have, as a pytest base class (subclass it and
provide a ``reranker`` fixture): it returns the hits it was given, each once, best score
first; none in, none out."""

from __future__ import annotations

from docsage.ports import Reranker
from docsage.testing.store_fixtures import make_chunk
from docsage.types import Hit

QUERY = "how do I call Client.retry() with a backoff?"
HITS = [
    Hit(chunk=make_chunk("c", f"doc{i}.md", text, anchor=anchor), score=score)
    for i, (text, anchor, score) in enumerate(
        [
            ("Backoff doubles the wait between attempts.", "backoff", 0.9),
            ("Client.retry(times) retries a failed call.", "Client.retry", 0.7),
            ("Install the package with pip.", "install", 0.5),
            ("The retry policy is set per client.", "retry-policy", 0.3),
        ]
    )
]


class RerankerContract:
    def test_it_returns_the_hits_it_was_given_each_once(self, reranker: Reranker) -> None:
        out = reranker.rerank(QUERY, HITS)
        assert sorted(h.chunk.id for h in out) == sorted(h.chunk.id for h in HITS)

    def test_best_score_first(self, reranker: Reranker) -> None:
        scores = [h.score for h in reranker.rerank(QUERY, HITS)]
        assert scores == sorted(scores, reverse=True)

    def test_no_hits_in_no_hits_out(self, reranker: Reranker) -> None:
        assert reranker.rerank(QUERY, []) == []

    def test_the_input_is_not_changed(self, reranker: Reranker) -> None:
        before = list(HITS)
        reranker.rerank(QUERY, HITS)
        assert before == HITS
