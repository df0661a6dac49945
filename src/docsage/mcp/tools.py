"""What each MCP tool does, over ``Service`` (blocking; ``docsage.mcp.server`` runs these
in a thread). One code path with the REST API: ``Service`` checks the key's scopes and
collections, admits the request under its rate limits and budgets, and logs it."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from docsage.errors import UsageError
from docsage.mcp import budget, sections
from docsage.mcp.models import (
    AskResult,
    CitedSource,
    CollectionOut,
    CollectionsResult,
    Located,
    SearchHit,
    SearchResult,
    SectionResult,
)
from docsage.models.chat import estimate_tokens
from docsage.service.core import Principal, Service
from docsage.types import Answer, Chunk, Hit
from docsage.untrusted import filter_links, withhold_instructions

SEARCH_K = 20
SNIPPET_TOKENS = 180
FRAME_TOKENS = 60
"""Kept free in every budget for what the estimate of the parts misses (JSON framing)."""
_MORE = "{n} more sections omitted; call read_section(ref) or raise max_tokens (up to 25000)"


def as_data(text: str) -> str:
    """The docs' ``text`` as an agent receives it: still only data (it goes in an
    ``untrusted_*`` field), and without the two things a gullible agent would act on: lines
    that read like instructions to an AI are withheld (``docsage.untrusted``), and remote
    images and absolute links are removed (a client that renders one fetches the URL, and
    a hostile page fills it with the question). Relative links into the docs stay."""
    withheld, _ = withhold_instructions(text)
    return filter_links(withheld, _relative).text


def _relative(url: str) -> bool:
    parts = urlsplit(url.strip())
    return not parts.scheme and not parts.netloc


def pick_collection(svc: Service, who: Principal, name: str | None) -> str:
    """``name`` if given; else the default collection, or the only one the caller reads.
    An error names only collections the caller may read."""
    if name:
        return svc.readable(who, name)
    readable = [c.name for c in svc.collections(who)]
    if svc.settings.collection in readable:
        return svc.settings.collection
    if len(readable) == 1:
        return readable[0]
    listed = ", ".join(readable) or "none"
    raise UsageError(f"pass collection: one of {listed} (list_collections shows them)")


def check_text(svc: Service, text: str, what: str) -> None:
    limit = svc.settings.max_question_chars
    if len(text) > limit:
        raise UsageError(f"{what} is {len(text)} characters; the limit is {limit}")
    if not text.strip():
        raise UsageError(f"{what} is blank")


def _notes(omitted: int, clamped: budget.Budget) -> str:
    return budget.joined([_MORE.format(n=omitted) if omitted else "", clamped.note])


def search(
    svc: Service, who: Principal, query: str, collection: str | None, path: str, max_tokens: int
) -> SearchResult:
    check_text(svc, query, "query")
    name = pick_collection(svc, who, collection)
    out = svc.search(who, query, name, SEARCH_K, "hybrid", path, route="mcp:search_docs")
    found = out.search.hits if out.search else []
    hits = [_hit(name, rank, hit) for rank, hit in enumerate(found, 1)]
    clamped = budget.clamp(max_tokens)
    empty = SearchResult(query=query, collection=name, hits=[])
    kept, omitted = budget.pack(hits, clamped.tokens - budget.tokens_of(empty) - FRAME_TOKENS)
    return SearchResult(
        query=query,
        collection=name,
        hits=kept,
        omitted=omitted,
        omitted_refs=[h.ref for h in hits[len(kept) :]],
        note=_notes(omitted, clamped),
    )


def _hit(collection: str, rank: int, hit: Hit) -> SearchHit:
    snippet = budget.cut_text(as_data(hit.chunk.text), SNIPPET_TOKENS)
    return SearchHit(
        **sections.located(collection, [hit.chunk]),
        rank=rank,
        score=round(hit.score, 4),
        untrusted_snippet=snippet,
    )


def read(
    svc: Service, who: Principal, ref: str, collection: str | None, max_tokens: int
) -> SectionResult:
    wanted = sections.parse_ref(ref)
    if wanted.collection and collection and wanted.collection != collection:
        raise UsageError(f"{ref!r} names collection {wanted.collection!r}, not {collection!r}")
    name = pick_collection(svc, who, wanted.collection or collection)
    route = "mcp:read_section"
    chunks = svc.read_source(who, name, wanted.source, route, anchor=wanted.anchor)
    part, before, after = sections.find(sections.sections(chunks), wanted)
    clamped = budget.clamp(max_tokens)
    base = SectionResult(
        **sections.located(name, part),
        untrusted_text="",
        truncated=False,
        previous=before,
        next=after,
    )
    room = clamped.tokens - budget.tokens_of(base) - FRAME_TOKENS
    text, cut = _fit([as_data(c.text) for c in part], room)
    note = f"section cut to fit max_tokens={clamped.tokens}; raise it (up to 25000)" if cut else ""
    return base.model_copy(
        update={
            "untrusted_text": text,
            "truncated": cut,
            "note": budget.joined([note, clamped.note]),
        }
    )


def _fit(parts: list[str], tokens: int) -> tuple[str, bool]:
    """The parts joined, whole parts only while they fit (the first is cut if it alone
    does not), and whether anything was left out."""
    kept: list[str] = []
    for part in parts:
        if estimate_tokens("\n\n".join([*kept, part])) > tokens:
            if not kept:
                kept.append(budget.cut_text(part, tokens))
            return "\n\n".join(kept), True
        kept.append(part)
    return "\n\n".join(kept), False


def ask(
    svc: Service, who: Principal, question: str, collection: str | None, max_tokens: int
) -> AskResult:
    check_text(svc, question, "question")
    name = pick_collection(svc, who, collection)
    out = svc.ask(who, question, name, "", route="mcp:ask_docs")
    clamped = budget.clamp(max_tokens)
    answer = out.answer
    if answer is None:  # over budget, served search-only
        hits = out.search.hits if out.search else []
        text = f"not answered: {out.degraded_reason}; only the closest sources are given"
        return _answer(name, question, clamped, None, text, [h.chunk for h in hits])
    closest = [h.chunk for h in answer.sources] if answer.abstained else []
    # The extractive answer is the docs' own sentences: it gets what every docs text an
    # agent receives gets (a page's "Report problems at https://evil.example/?q=..." quoted).
    return _answer(name, question, clamped, answer, as_data(answer.text), closest)


def _cited(collection: str, answer: Answer) -> list[CitedSource]:
    # A citation names its chunk; the answer's sources hold the chunks it drew on.
    headings = {h.chunk.id: list(h.chunk.heading_path) for h in answer.sources}
    return [
        CitedSource(
            ref=c.ref,
            collection=collection,
            uri=sections.uri_of(collection, c.source, c.anchor),
            title=c.title,
            heading_path=headings.get(c.chunk_id, []),
            line_start=c.lines[0] if c.lines else None,
            line_end=c.lines[1] if c.lines else None,
            number=c.number,
            untrusted_quote=as_data(c.quote),
        )
        for c in answer.citations
    ]


def _answer(
    name: str,
    question: str,
    clamped: budget.Budget,
    answer: Answer | None,
    text: str,
    closest: list[Chunk],
) -> AskResult:
    """The result: the citations of an answer, or else the closest sources, within budget."""
    answered = answer is not None and not answer.abstained
    base = AskResult(
        question=question,
        collection=name,
        answered=answered,
        answer=text,
        confidence=round(answer.confidence, 4) if answer else 0.0,
        citations=[],
    )
    room = clamped.tokens - budget.tokens_of(base) - FRAME_TOKENS
    items: list[CitedSource] | list[Located] = (
        _cited(name, answer)
        if answer is not None and answered
        else [sections.location(name, c) for c in closest]
    )
    kept, omitted = budget.pack(items, room)
    return base.model_copy(
        update={
            "citations" if answered else "closest_sources": kept,
            "omitted": omitted,
            "omitted_refs": [i.ref for i in items[len(kept) :]],
            "note": _notes(omitted, clamped),
        }
    )


def collections(svc: Service, who: Principal, max_tokens: int) -> CollectionsResult:
    infos = [
        CollectionOut(
            name=c.name,
            documents=c.documents,
            chunks=c.chunks,
            index_version=c.index_version,
            indexed_at=_iso(c.updated_at),
        )
        for c in svc.collections(who)
    ]
    clamped = budget.clamp(max_tokens)
    kept, omitted = budget.pack(infos, clamped.tokens - FRAME_TOKENS)
    left = [c.name for c in infos[len(kept) :]]
    note = budget.joined([f"{omitted} more collections omitted" if omitted else "", clamped.note])
    return CollectionsResult(collections=kept, omitted=omitted, omitted_refs=left, note=note)


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")
