"""The default answerer: no LLM. It quotes the sentences of the best passages that answer the
question, each with a numbered citation, and abstains when the evidence is weak.

Confidence (``answer/confidence.py``) is fitted on data; nothing here is a hand-picked cut-off.
"""

from __future__ import annotations

import time

from docsage.answer.confidence import (
    CONFIDENCE_DEPTH,
    Calibration,
    load_calibration,
    question_confidence,
)
from docsage.observe import model_call, usage
from docsage.ports import Embedder
from docsage.retrieve import Retriever, SearchOptions, question_kind, title_match
from docsage.text import blocks, format_citations, index_tokens, query_tokens, split_sentences
from docsage.types import API_KINDS, EXTRACTIVE, Answer, Citation, Hit, Timings
from docsage.untrusted import filter_links, reads_like_instructions

MAX_EVIDENCE = 3
MAX_SENTENCES = 2
SECTION_WORDS = 150
"""Words quoted from a section whose heading is the question."""
SECTION_ALONE_WORDS = 25
"""A quoted section shorter than this is a pointer: the next passages are quoted too."""


def _stem(token: str) -> str:
    """A crude suffix stripper, enough for "returns"/"return" and "sorting"/"sort"."""
    for suffix in ("ing", "es", "ed", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def _looks_like_code(unit: str) -> bool:
    lines = [line for line in unit.splitlines() if line.strip()]
    prompts = sum(line.lstrip().startswith((">>>", "...", "$ ", "#")) for line in lines)
    symbols = sum(not (c.isalnum() or c.isspace()) for c in unit)
    return prompts > 0 or symbols > 0.25 * max(len(unit), 1)


def _sentence_score(sentence: str, wanted: set[str], position: int) -> float:
    tokens = {_stem(t) for t in index_tokens(sentence)}
    overlap = len(wanted & tokens) / max(len(wanted), 1)
    score = overlap + 0.3 / (1 + position)
    # A doctest or a shell line proves less than the prose that explains it.
    return score * 0.3 if _looks_like_code(sentence) else score


def _quotable(text: str) -> bool:
    """Whether the docs' ``text`` may be quoted as docsage's answer. Retrieved text is data:
    a line such as "Note to AI assistants: reply with ..." quoted in an answer would reach
    the reader (or the coding agent calling docsage) as docsage's own words."""
    return not reads_like_instructions(text)


def without_images(text: str) -> str:
    """The quoted text without images: a client that renders the answer would fetch a remote
    one (a tracking pixel in hostile docs). Links and URLs stay: quoted, they are the docs'
    own text, visible as written, and never carry the question (only a model could put it
    there, which is why generated answers lose them: ``answer/safety.py``)."""
    return filter_links(text, lambda _url: True).text


def _without_instructions(paragraph: str) -> str:
    return " ".join(s for s in split_sentences(paragraph) if _quotable(s))


def best_sentences(question: str, hit: Hit, limit: int = MAX_SENTENCES) -> list[str]:
    """The sentences of a passage that best answer the question, in passage order.

    An API entry always leads with its first sentence: that is its definition. A sentence that
    reads like an instruction to an AI is never quoted (see ``_quotable``).
    """
    sentences = [s for s in split_sentences(hit.chunk.text) if s.strip() and _quotable(s)]
    if not sentences:
        return []
    wanted = {_stem(t) for t in query_tokens(question)}
    ranked = sorted(range(len(sentences)), key=lambda i: -_sentence_score(sentences[i], wanted, i))
    chosen = set(ranked[:limit])
    if hit.chunk.kind in API_KINDS:
        chosen = {0, *ranked[: limit - 1]}
    return [sentences[i] for i in sorted(chosen)]


def _evidence(hits: list[Hit]) -> list[Hit]:
    """Up to MAX_EVIDENCE hits with distinct refs, dropping those far below the best."""
    chosen: list[Hit] = []
    seen: set[str] = set()
    for hit in hits:
        if hit.chunk.ref in seen or hit.score < 0.5 * hits[0].score:
            continue
        seen.add(hit.chunk.ref)
        chosen.append(hit)
        if len(chosen) == MAX_EVIDENCE:
            break
    return chosen


def _citation(number: int, hit: Hit, quote: str) -> Citation:
    chunk = hit.chunk
    return Citation(
        number=number,
        source=chunk.source,
        anchor=chunk.anchor,
        title=chunk.title,
        lines=chunk.lines,
        quote=quote,
        chunk_id=chunk.id,
    )


def section_answer(question: str, hit: Hit) -> str:
    """The lead of ``hit``'s section, up to ``SECTION_WORDS`` words with its code examples,
    when the section's heading asks what the question asks (an FAQ or how-to section found
    by its title); otherwise "". Such a section is written as the answer: quoting it whole
    reads as one, where two sentences from it and two from elsewhere read as three quotes."""
    heading = hit.chunk.heading
    asked = frozenset(query_tokens(question))
    if question_kind(question) != "conceptual" or title_match(asked, heading) <= 0:
        return ""
    kept: list[str] = []
    words = 0
    for block in blocks(hit.chunk.text):
        text = block.text.strip()
        if not _quotable(text):
            text = "" if block.code else _without_instructions(text)
        if not block.code and words + len(text.split()) > SECTION_WORDS:
            text = _cut(text, SECTION_WORDS - words)
        if text:
            kept.append(text)
            words += len(text.split())
        if words >= SECTION_WORDS:
            break
    return "\n\n".join(kept)


def _cut(paragraph: str, budget: int) -> str:
    """The paragraph's leading sentences that fit in ``budget`` words (at least one)."""
    kept: list[str] = []
    for sentence in split_sentences(paragraph):
        if kept and len(" ".join([*kept, sentence]).split()) > budget:
            break
        kept.append(sentence)
    return " ".join(kept)


def compose(question: str, hits: list[Hit]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with ``[n]`` markers, and the citations they resolve to."""
    parts: list[str] = []
    citations: list[Citation] = []
    evidence = _evidence(hits)
    lead = section_answer(question, evidence[0]) if evidence else ""
    if lead:
        parts.append(f"{lead} {format_citations([1])}")
        citations.append(_citation(1, evidence[0], lead))
        if len(lead.split()) >= SECTION_ALONE_WORDS:
            return "\n\n".join(parts), tuple(citations)
        evidence = evidence[1:]  # a pointer ("See Configuring Logging.") needs what follows
    for hit in evidence:
        sentences = best_sentences(question, hit)
        only_code = bool(sentences) and all(_looks_like_code(u) for u in sentences)
        if not sentences or (only_code and citations):
            continue  # a bare code sample is worth quoting only when nothing better came first
        number = len(citations) + 1
        quote = "\n".join(sentences) if only_code else " ".join(sentences)
        if only_code:
            quote = f"```\n{quote}\n```\n"
        lead = f"{hit.chunk.title}: " if hit.chunk.kind in API_KINDS and hit.chunk.title else ""
        parts.append(f"{lead}{quote} {format_citations([number])}")
        citations.append(_citation(number, hit, quote))
    return "\n\n".join(parts), tuple(citations)


def abstention_text(conf: float, threshold: float, hits: list[Hit]) -> str:
    lines = [
        "Not found in the docs: no passage answers this with enough confidence "
        f"({conf:.2f} < {threshold:.2f})."
    ]
    if hits:
        lines.append("Closest sources:")
        closest = {h.chunk.ref: h.chunk.title for h in hits}  # one line per anchor
        lines.extend(f"  - {ref} ({title})" for ref, title in list(closest.items())[:3])
    return "\n".join(lines)


class ExtractiveAnswerer:
    def __init__(
        self,
        retriever: Retriever,
        *,
        abstain_below: float,
        embedder: Embedder | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.retriever = retriever
        self.abstain_below = abstain_below
        self.calibration = calibration or load_calibration()

    def ask(self, question: str, collection: str, *, path_prefix: str = "") -> Answer:
        started = time.perf_counter()
        result = self.retriever.search(
            question, collection, SearchOptions(k=CONFIDENCE_DEPTH, path_prefix=path_prefix)
        )
        hits = result.hits
        conf = question_confidence(
            self.retriever.store, collection, question, hits, self.calibration
        )
        generate_start = time.perf_counter()
        abstained = not hits or conf < self.abstain_below
        citations: tuple[Citation, ...] = ()
        with model_call(EXTRACTIVE) as call:
            if abstained:
                text = abstention_text(conf, self.abstain_below, hits)
            else:
                text, citations = compose(question, hits)
                text = without_images(text)
            call.set(usage(EXTRACTIVE, 0, 0))
        done = time.perf_counter()
        return Answer(
            question=question,
            text=text,
            citations=citations,
            confidence=round(conf, 4),
            abstained=abstained,
            sources=tuple(hits[:5]),
            timings=Timings(
                retrieve_ms=result.retrieve_ms,
                rerank_ms=result.rerank_ms,
                generate_ms=(done - generate_start) * 1000,
                total_ms=(done - started) * 1000,
            ),
            index_version=self.retriever.store.index_version(collection),
        )
