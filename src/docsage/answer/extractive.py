"""The default answerer: no LLM. It quotes the sentences of the best passages that answer the
question, each with a numbered citation, and abstains when the evidence is weak.

Confidence (``answer/confidence.py``) is fitted on data; nothing here is a hand-picked cut-off.
"""

from __future__ import annotations

import re
import textwrap
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
from docsage.text import Block as TextBlock
from docsage.text import (
    blocks,
    format_citations,
    index_tokens,
    query_tokens,
    split_sentences,
    stem,
)
from docsage.types import API_KINDS, EXTRACTIVE, Answer, Citation, Hit, Timings
from docsage.untrusted import filter_links, reads_like_instructions

MAX_EVIDENCE = 3
MAX_SENTENCES = 2
SECTION_WORDS = 150
"""Words quoted from a section whose heading is the question."""
SECTION_ALONE_WORDS = 25
"""A quoted section shorter than this is a pointer: the next passages are quoted too."""


def _looks_like_code(unit: str) -> bool:
    lines = [line for line in unit.splitlines() if line.strip()]
    prompts = sum(line.lstrip().startswith((">>>", "...", "$ ", "#")) for line in lines)
    symbols = sum(not (c.isalnum() or c.isspace()) for c in unit)
    return prompts > 0 or symbols > 0.25 * max(len(unit), 1)


def _sentence_score(sentence: str, wanted: set[str], position: int) -> float:
    tokens = {stem(t) for t in index_tokens(sentence)}
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


LEAD_SENTENCES = 4
"""Sentences quoted from the passage that answers best: it is the answer, the others support it."""
MAX_CODE_LINES = 20
"""An example longer than this is cut (with ``...``): the citation opens the whole of it."""
ADDRESSES = 0.5
"""A passage is quoted when its quote and headings cover at least this share of the question
words that the best-covering passage covers; below that it answers something else..."""
CLOSE = 0.75
"""... unless retrieval scored it this close to the lead: a paraphrase ("two jobs editing one
report at the same moment" for a mutex) shares meaning, not words."""
_HOW = re.compile(r"\bhow\s+(?:do|does|can|could|should|would|to|is|are)\b|\bexamples?\b", re.I)


def asks_how(question: str) -> bool:
    """Whether the question asks how to do something, so that the docs' example answers too."""
    return bool(_HOW.search(question))


def _units(hit: Hit) -> list[TextBlock]:
    """The passage's sentences and whole fenced examples (``code``), in order, none that
    reads like an instruction to an AI (see ``_quotable``)."""
    units: list[TextBlock] = []
    for block in blocks(hit.chunk.text):
        pieces = [block.text] if block.code else split_sentences(block.text)
        units.extend(TextBlock(p, block.code) for p in pieces if p.strip() and _quotable(p))
    return units


def _chosen(question: str, units: list[TextBlock], hit: Hit, limit: int) -> list[int]:
    """Indices of the prose sentences that best answer the question, in passage order.

    An API entry always keeps its first sentence: that is its definition.
    """
    prose = [i for i, u in enumerate(units) if not u.code]
    wanted = {stem(t) for t in query_tokens(question)}
    score = {i: _sentence_score(units[i].text, wanted, rank) for rank, i in enumerate(prose)}
    ranked = sorted(prose, key=lambda i: -score[i])
    chosen = set(ranked[:limit])
    if hit.chunk.kind in API_KINDS and prose:
        chosen = {prose[0], *ranked[: limit - 1]}
    return sorted(chosen)


def _example(unit: str) -> str:
    """A fenced example, dedented (an entry's body is quoted from inside its ``def``) and cut
    after ``MAX_CODE_LINES`` lines of code, the fence kept closed."""
    opening, *code = unit.strip("\n").split("\n")
    opening = opening.strip()
    fence = opening[: len(opening) - len(opening.lstrip(opening[0]))]  # the ``` or ~~~ run
    if code and code[-1].strip().startswith(fence):
        code.pop()  # the closing line; a fence the chunk never closed is closed here
    code = textwrap.dedent("\n".join(code)).split("\n")
    if len(code) > MAX_CODE_LINES:
        code = [*code[:MAX_CODE_LINES], "..."]
    return "\n".join([opening, *code, fence])


def passage_quote(question: str, hit: Hit, limit: int = MAX_SENTENCES) -> str:
    """What is quoted from one passage: its best sentences, in passage order, with the docs'
    example where the prose introduces one ("For example:") or the question asks how.

    A passage that is only code is quoted as its first example.
    """
    units = _units(hit)
    chosen = _chosen(question, units, hit, limit)
    if not chosen:
        examples = [u.text for u in units if u.code]
        return _example(examples[0]) if examples else ""
    keep = set(chosen)
    for i in chosen:
        if units[i].text.rstrip().endswith(":") and i + 1 < len(units) and units[i + 1].code:
            keep.add(i + 1)
    if asks_how(question) and not any(units[i].code for i in keep):
        after = (i for i in range(chosen[0] + 1, len(units)) if units[i].code)
        keep.update(list(after)[:1])
    runs: list[TextBlock] = []  # sentences of one run of prose joined, each example alone
    for i in sorted(keep):
        unit = units[i]
        if not unit.code and runs and not runs[-1].code:
            runs[-1] = TextBlock(f"{runs[-1].text} {unit.text}", False)
        else:
            runs.append(TextBlock(_example(unit.text), True) if unit.code else unit)
    return "\n".join(r.text for r in runs).strip()


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
    if _heading_only(hit):
        return ""  # a section with no text of its own ("Engine and Connection Use") says nothing
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


def _coverage(question: str, hit: Hit, quote: str) -> int:
    """How many of the question's words the quote and its headings contain."""
    wanted = {stem(t) for t in query_tokens(question)}
    said = " ".join([*hit.chunk.heading_path, quote])
    return len(wanted & {stem(t) for t in index_tokens(said)})


def _heading_only(hit: Hit) -> bool:
    """A section with no text of its own ("API Reference"): its chunk is its heading."""
    return hit.chunk.text.strip() in {hit.chunk.title.strip(), *hit.chunk.heading_path}


def _addressing(question: str, quoted: list[tuple[Hit, str]]) -> list[tuple[Hit, str]]:
    """The quotes that address the question: the lead always, then those covering at least
    ``ADDRESSES`` of the question words the best quote covers or ranked ``CLOSE`` to the lead."""
    if not quoted:
        return []
    covers = [_coverage(question, h, q) for h, q in quoted]
    lead, best = quoted[0][0], max(covers)
    return [
        quoted[0],
        *(
            hq
            for hq, cover in zip(quoted[1:], covers[1:], strict=True)
            if hq[0].score >= CLOSE * lead.score or cover >= ADDRESSES * best
        ),
    ]


def _by_source(quoted: list[tuple[Hit, str]]) -> list[tuple[Hit, str]]:
    """Quotes from one page together, pages in the order of their first (best) quote."""
    order = list(dict.fromkeys(h.chunk.source for h, _ in quoted))
    return sorted(quoted, key=lambda hq: order.index(hq[0].chunk.source))


def _marked(quote: str, number: int, name: str = "", prefix: str = "") -> str:
    """The quote with its citation marker after each paragraph of prose, its examples in
    paragraphs of their own, and ``prefix`` ("Session.commit: ") before its first sentence.

    An example takes the marker of the sentence that introduces it, as the answer-time
    verifier reads it (``answer/verify.py``); a marker after a closing fence would break the
    fence in Markdown. A quote that opens with code gets a line "``name``:" to carry it.
    """
    marker = format_citations([number])
    pieces = blocks(quote)
    if pieces and pieces[0].code:
        pieces.insert(0, TextBlock(f"{name.rstrip(': ') or 'From the source'}:", False))
        prefix = ""
    out = [p.text.strip("\n") if p.code else f"{p.text.strip()} {marker}" for p in pieces]
    return prefix + "\n\n".join(out)


def compose(question: str, hits: list[Hit]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with ``[n]`` markers, and the citations they resolve to."""
    parts: list[str] = []
    citations: list[Citation] = []
    evidence = _evidence(hits)
    lead = section_answer(question, evidence[0]) if evidence else ""
    if lead:
        parts.append(_marked(lead, 1, evidence[0].chunk.title))
        citations.append(_citation(1, evidence[0], lead))
        if len(lead.split()) >= SECTION_ALONE_WORDS:
            return "\n\n".join(parts), tuple(citations)
        evidence = evidence[1:]  # a pointer ("See Configuring Logging.") needs what follows
    quoted: list[tuple[Hit, str]] = []
    for hit in evidence:
        if _heading_only(hit):
            continue
        first = not quoted and not citations
        quote = passage_quote(question, hit, LEAD_SENTENCES if first else MAX_SENTENCES)
        bare_code = all(b.code for b in blocks(quote))
        if not quote or (bare_code and not first and not asks_how(question)):
            continue  # bare code is worth quoting first, or as the how-question's example
        quoted.append((hit, quote))
    for hit, quote in _by_source(_addressing(question, quoted)):
        number = len(citations) + 1
        api = hit.chunk.kind in API_KINDS and hit.chunk.title
        prefix = f"{hit.chunk.title}: " if api else ""
        parts.append(_marked(quote, number, hit.chunk.title, prefix))
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
