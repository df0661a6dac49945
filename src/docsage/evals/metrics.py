"""Evaluation metrics: pure functions over ids and strings (stdlib only).

Retrieval metrics score one query. ``retrieved`` is a ranked list of ids; duplicates are
dropped before scoring, keeping the first occurrence, so a retriever that returns one chunk
twice gets no double credit and no hidden rank penalty. The definitions follow trec_eval
(``P_k``, ``recall_k``, ``recip_rank``, ``success_k``, ``ndcg_cut_k``) and are tested against
``ranx``, which follows trec_eval.

A metric whose denominator is the number of relevant ids (recall, nDCG, citation recall) is
undefined for a case with no gold; it raises ``ValueError`` rather than returning 0 or NaN, so
unanswerable cases must be scored with :func:`abstention_scores` instead.

Refs are ``path#anchor`` (see ``Chunk.ref``). :func:`anchor_level` and :func:`page_level` turn
refs and gold refs into plain ids so the core metrics never see the matching rules.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TypedDict

# -- retrieval ---------------------------------------------------------------------------------


def dedupe(ids: Iterable[str]) -> list[str]:
    """The ids in order, each kept at its first occurrence."""
    return list(dict.fromkeys(ids))


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def _require_relevant(relevant: Collection[str], metric: str) -> None:
    if not relevant:
        raise ValueError(
            f"{metric} is undefined for a case with no relevant ids; "
            "score unanswerable cases with abstention_scores instead"
        )


def _hits(retrieved: Sequence[str], relevant: Collection[str], k: int) -> int:
    return sum(1 for doc in dedupe(retrieved)[:k] if doc in relevant)


def recall_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant ids found in the top k: ``|top_k ∩ relevant| / |relevant|``.

    Source: trec_eval ``recall_k``. Raises ``ValueError`` when ``relevant`` is empty.
    """
    _check_k(k)
    _require_relevant(relevant, "recall")
    return _hits(retrieved, relevant, k) / len(relevant)


def precision_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """``|top_k ∩ relevant| / k``; the denominator stays k when fewer than k ids came back.

    Source: trec_eval ``P_k``. No relevant ids gives 0.0.
    """
    _check_k(k)
    return _hits(retrieved, relevant, k) / k


def hit_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 when any relevant id is in the top k, else 0.0 (trec_eval ``success_k``)."""
    _check_k(k)
    return 1.0 if _hits(retrieved, relevant, k) else 0.0


def mrr_at_k(retrieved: Sequence[str], relevant: Collection[str], k: int) -> float:
    """``1 / rank`` of the first relevant id within the top k (1-based), else 0.0.

    Source: trec_eval ``recip_rank`` cut at k; averaged over queries it is MRR@k.
    """
    _check_k(k)
    for rank, doc in enumerate(dedupe(retrieved)[:k], start=1):
        if doc in relevant:
            return 1.0 / rank
    return 0.0


def _grades(relevant: Collection[str] | Mapping[str, int]) -> dict[str, int]:
    if isinstance(relevant, Mapping):
        return {doc: int(grade) for doc, grade in relevant.items() if grade > 0}
    return dict.fromkeys(relevant, 1)


def _dcg(gains: Iterable[int]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ndcg_at_k(
    retrieved: Sequence[str], relevant: Collection[str] | Mapping[str, int], k: int
) -> float:
    """Normalised discounted cumulative gain in the trec_eval ``ndcg_cut_k`` form.

    ``DCG@k = sum_{i=1..k} rel_i / log2(i + 1)`` with linear gain (Järvelin & Kekäläinen
    2002), ``nDCG@k = DCG@k / IDCG@k`` where IDCG@k is the DCG of the grades sorted in
    descending order. This is what trec_eval, pytrec_eval (hence BEIR) and ranx's ``ndcg``
    compute; the ``(2^rel - 1)`` gain of Burges et al. 2005 differs only for grades above 1.

    ``relevant`` is a set of ids (grade 1 each) or a qrels mapping id -> grade; grades <= 0
    count as not relevant. Raises ``ValueError`` when nothing is relevant.
    """
    _check_k(k)
    grades = _grades(relevant)
    _require_relevant(grades, "nDCG")
    dcg = _dcg(grades.get(doc, 0) for doc in dedupe(retrieved)[:k])
    ideal = _dcg(sorted(grades.values(), reverse=True)[:k])
    return dcg / ideal


# -- ref levels --------------------------------------------------------------------------------


def page_of(ref: str) -> str:
    """The page part of ``path#anchor``: everything before the first ``#``."""
    return ref.split("#", 1)[0]


def to_page_level(retrieved: Iterable[str]) -> list[str]:
    """Map each ref to its page, then dedupe keeping first occurrence (rank of best anchor)."""
    return dedupe(page_of(ref) for ref in retrieved)


def page_level(retrieved: Sequence[str], gold: Iterable[str]) -> tuple[list[str], set[str]]:
    """``(retrieved pages, gold pages)`` for scoring at page level."""
    return to_page_level(retrieved), {page_of(ref) for ref in gold}


def match_gold(retrieved_ref: str, gold_ref: str) -> bool:
    """Whether a retrieved ref satisfies a gold ref.

    A gold ``path#anchor`` needs that exact ref. A bare gold ``path`` (no ``#``) is a
    page-level gold: any anchor on that page satisfies it, as does the bare page itself.
    """
    if "#" in gold_ref:
        return retrieved_ref == gold_ref
    return page_of(retrieved_ref) == gold_ref


_UNMATCHED = "\x00unmatched:"


def _claim(ref: str, gold: Sequence[str], claimed: set[str]) -> str | None:
    if ref in gold and ref not in claimed:
        return ref
    return next((g for g in gold if g not in claimed and match_gold(ref, g)), None)


def anchor_level(retrieved: Sequence[str], gold: Iterable[str]) -> tuple[list[str], set[str]]:
    """``(retrieved ids, relevant ids)`` for scoring at anchor level, gold refs as ids.

    Retrieved refs are deduped, then each one that satisfies a still-unclaimed gold ref (see
    :func:`match_gold`; an exact match is preferred) is renamed to that gold ref. So a
    page-level gold is credited once, at the rank of the first anchor on its page; later
    anchors on the same page keep their own (non-relevant) id and their rank position. A
    retrieved ref equal to an already-claimed gold (bare ``p`` after ``p#a`` for gold ``p``)
    gets a marked id, so no gold id appears twice.
    """
    golds = dedupe(gold)
    claimed: set[str] = set()
    ids: list[str] = []
    for ref in dedupe(retrieved):
        hit = _claim(ref, golds, claimed)
        if hit is not None:
            claimed.add(hit)
        elif ref in claimed:
            hit = _UNMATCHED + ref
        ids.append(ref if hit is None else hit)
    return ids, set(golds)


# -- citations (ALCE, Gao et al. 2023, simplified to source matching) ------------------------


def citation_precision(cited: Iterable[str], gold: Collection[str]) -> float:
    """Share of distinct cited refs that satisfy some gold ref (:func:`match_gold`).

    Simplifies ALCE's citation precision (Gao et al. 2023, "Enabling Large Language Models to
    Generate Text with Citations"), which asks an NLI model whether each citation supports
    its statement, to "the citation points at a gold source". No citations gives 0.0: as in
    ALCE, an answer that cites nothing earns no citation credit.
    """
    refs = dedupe(cited)
    if not refs:
        return 0.0
    return sum(1 for ref in refs if any(match_gold(ref, g) for g in gold)) / len(refs)


def citation_recall(cited: Iterable[str], gold: Collection[str]) -> float:
    """Share of distinct gold refs satisfied by some citation (:func:`match_gold`).

    No citations gives 0.0. Raises ``ValueError`` when ``gold`` is empty (undefined).
    """
    golds = dedupe(gold)
    _require_relevant(golds, "citation recall")
    refs = dedupe(cited)
    return sum(1 for g in golds if any(match_gold(ref, g) for ref in refs)) / len(golds)


def citations_resolve(cited: Iterable[str], known_refs: Collection[str]) -> bool:
    """Whether every cited ref exists verbatim in ``known_refs`` (vacuously true if none)."""
    return all(ref in known_refs for ref in cited)


# -- abstention --------------------------------------------------------------------------------


class AbstentionScores(TypedDict):
    """Abstention quality; a field is ``None`` where its denominator is 0, never NaN."""

    precision: float | None
    recall: float | None
    f1: float | None
    false_abstention_rate: float | None
    n_unanswerable: int
    n_answerable: int


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _f1(precision: float | None, recall: float | None) -> float | None:
    if recall is None:
        return None
    p = precision or 0.0
    return 2 * p * recall / (p + recall) if p + recall else 0.0


def abstention_scores(
    predicted_abstain: Sequence[bool], should_abstain: Sequence[bool]
) -> AbstentionScores:
    """Abstaining treated as the positive class over unanswerable cases.

    ``precision = TP / (TP + FP)`` (``None`` if the system never abstained),
    ``recall = TP / #unanswerable`` (``None`` if there are no unanswerable cases),
    ``f1 = 2PR / (P + R)`` (``None`` iff recall is; 0.0 when P = R = 0 or P is ``None``),
    ``false_abstention_rate = FP / #answerable`` (``None`` if there are no answerable cases).
    """
    if len(predicted_abstain) != len(should_abstain):
        raise ValueError(
            f"predicted_abstain has {len(predicted_abstain)} cases but should_abstain has "
            f"{len(should_abstain)}; pass one flag per case in the same order"
        )
    pairs = list(zip(predicted_abstain, should_abstain, strict=True))
    tp = sum(1 for p, s in pairs if p and s)
    fp = sum(1 for p, s in pairs if p and not s)
    n_unanswerable = sum(1 for s in should_abstain if s)
    n_answerable = len(should_abstain) - n_unanswerable
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, n_unanswerable)
    return AbstentionScores(
        precision=precision,
        recall=recall,
        f1=_f1(precision, recall),
        false_abstention_rate=_ratio(fp, n_answerable),
        n_unanswerable=n_unanswerable,
        n_answerable=n_answerable,
    )


# -- answer text vs reference ------------------------------------------------------------------

_PUNCT = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def squad_normalize(text: str) -> str:
    """SQuAD v1.1 ``normalize_answer``: lowercase, drop punctuation, articles, extra spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def token_f1(prediction: str, reference: str) -> float:
    """Bag-of-tokens F1 after :func:`squad_normalize`, as in the SQuAD v1.1 eval script
    (Rajpurkar et al. 2016, ``evaluate-v1.1.py``: ``f1_score``).

    ``common = |tokens(pred) ∩ tokens(ref)|`` as multisets, ``P = common / |pred|``,
    ``R = common / |ref|``, ``F1 = 2PR / (P + R)``. When either side normalises to no tokens,
    F1 is 1.0 if both do and 0.0 otherwise (the SQuAD v2.0 script's rule).
    """
    pred, ref = squad_normalize(prediction).split(), squad_normalize(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def _rouge_tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence, O(|a|·|b|) dynamic programme."""
    prev = [0] * (len(b) + 1)
    for x in a:
        row = [0]
        for j, y in enumerate(b):
            row.append(prev[j] + 1 if x == y else max(prev[j + 1], row[j]))
        prev = row
    return prev[-1]


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure with beta = 1 (Lin 2004, "ROUGE: A Package for Automatic
    Evaluation of Summaries", sec. 3.1), as Google's ``rouge-score`` ``rougeL`` reports it.

    Tokens are lowercase runs of ``[a-z0-9]`` (``rouge-score``'s tokenizer, no stemming).
    ``R = LCS / |ref|``, ``P = LCS / |pred|``, ``F = 2PR / (P + R)``; 0.0 when either side
    has no tokens or there is no common token.
    """
    pred, ref = _rouge_tokens(prediction), _rouge_tokens(reference)
    lcs = lcs_length(pred, ref) if pred and ref else 0
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)
