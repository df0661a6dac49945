"""A synthetic test set built from the corpus itself, without an LLM.

Answerable questions come from API entries ("What does `Queue.purge` do?") and section
headings ("What do the docs say about retries and backoff?"), with the entry or section as the gold
source. Unanswerable ones ask about plausible API names that the corpus never mentions
(``Queue.export_parquet``), to measure abstention. Every case is tagged ``synthetic``.

These questions reuse the corpus's own words, so they are easier than real user questions:
they catch regressions in chunking, anchors and retrieval, not how well docsage understands
paraphrase. LLM-written questions are not generated (docsage has no chat model yet).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import dataclass

from docsage.errors import UsageError
from docsage.evals.dataset import EvalCase
from docsage.ports import IndexReader
from docsage.types import API_KINDS, Chunk

API_TEMPLATES = (
    "What does `{name}` do?",
    "How do I use `{name}`?",
    "What are the parameters of `{name}`?",
)
SECTION_TEMPLATES = ("What do the docs say about {topic}?", "Where can I read about {topic}?")
ABSENT_TEMPLATES = ("What does `{name}` return?", "How do I call `{name}`?")
# Verb and noun parts for made-up method names: common enough to sound plausible.
_VERBS = ("export", "sync", "merge", "stream", "archive", "rebalance", "snapshot", "migrate")
_NOUNS = ("parquet", "shards", "webhooks", "replicas", "metrics", "tenants", "quota", "graph")
_FALLBACK_TOPICS = (
    "Kubernetes operator deployment",
    "GraphQL subscriptions",
    "SAML single sign-on",
    "GPU memory pooling",
    "Bluetooth pairing",
    "blockchain anchoring",
)
_WORD = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Target:
    ref: str
    kind: str  # "api" or "heading"
    name: str


def _api_name(chunk: Chunk) -> str:
    """``Queue.enqueue`` from anchor ``tidepool.Queue.enqueue``: the last two parts."""
    return ".".join(chunk.anchor.split(".")[-2:])


def _targets(chunks: Iterable[Chunk]) -> list[_Target]:
    """One question target per distinct ref: API entries by name, sections by title."""
    seen: dict[str, _Target] = {}
    for chunk in chunks:
        if chunk.ref in seen or not chunk.anchor:
            continue
        if chunk.kind in API_KINDS and not chunk.anchor.split(".")[-1].startswith("_"):
            seen[chunk.ref] = _Target(ref=chunk.ref, kind="api", name=_api_name(chunk))
        elif chunk.kind == "section" and len(chunk.title.strip()) >= 3:
            seen[chunk.ref] = _Target(ref=chunk.ref, kind="heading", name=chunk.title.strip())
    return list(seen.values())


def _question(target: _Target, rng: random.Random) -> str:
    if target.kind == "api":
        return rng.choice(API_TEMPLATES).format(name=target.name)
    return rng.choice(SECTION_TEMPLATES).format(topic=target.name.lower())


def _absent_names(owners: list[str], vocabulary: set[str], n: int, rng: random.Random) -> list[str]:
    """Up to ``n`` names ``Owner.verb_noun`` none of whose new parts occur in the corpus."""
    candidates = [
        f"{owner}.{verb}_{noun}" if owner else f"{verb}_{noun}"
        for owner in owners or [""]
        for verb in _VERBS
        for noun in _NOUNS
        if f"{verb}_{noun}" not in vocabulary and not {verb, noun} <= vocabulary
    ]
    rng.shuffle(candidates)
    return candidates[:n]


def _unanswerable(chunks: list[Chunk], n: int, rng: random.Random) -> list[str]:
    vocabulary = {
        w for c in chunks for w in _WORD.findall(f"{c.title} {c.anchor} {c.text}".lower())
    }
    owners = sorted(
        {_api_name(c).split(".")[0] for c in chunks if c.kind in API_KINDS and "." in c.anchor}
    )
    names = _absent_names(owners, vocabulary, n, rng)
    questions = [rng.choice(ABSENT_TEMPLATES).format(name=name) for name in names]
    topics = [t for t in _FALLBACK_TOPICS if not set(_WORD.findall(t.lower())) <= vocabulary]
    questions += [f"How do I set up {t.lower()}?" for t in topics[: n - len(questions)]]
    return questions


def _all_chunks(store: IndexReader, collection: str) -> list[Chunk]:
    return [
        c
        for source in sorted(store.documents(collection))
        for c in store.chunks(collection, source)
    ]


def generate_cases(
    store: IndexReader,
    collection: str,
    n: int = 200,
    *,
    unanswerable_share: float = 0.2,
    seed: int = 0,
) -> list[EvalCase]:
    """About ``n`` cases: answerable ones from sampled targets, then unanswerable ones."""
    if n < 1 or not 0.0 <= unanswerable_share < 1.0:
        raise UsageError("-n must be at least 1 and the unanswerable share in [0, 1)")
    chunks = _all_chunks(store, collection)
    targets = _targets(chunks)
    if not targets:
        raise UsageError(f"collection {collection!r} has no API entries or headings to ask about")
    rng = random.Random(seed)
    n_absent = round(n * unanswerable_share)
    picked = rng.sample(targets, min(n - n_absent, len(targets)))
    cases = [
        EvalCase(
            id=f"syn-{i:04d}",
            question=_question(t, rng),
            gold_sources=(t.ref,),
            tags=("synthetic", t.kind),
        )
        for i, t in enumerate(picked, 1)
    ]
    for question in _unanswerable(chunks, n_absent, rng):
        cases.append(
            EvalCase(
                id=f"syn-{len(cases) + 1:04d}",
                question=question,
                answerable=False,
                tags=("synthetic", "unanswerable"),
            )
        )
    return cases
