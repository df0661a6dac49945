"""Generative answers: retrieve, pack numbered sources, ask a chat model, verify every
sentence against the source it cites, and abstain when nothing supported remains.

Retrieval confidence gates the model call exactly as in the extractive path (same
calibration), so a question the docs do not cover costs no tokens. The answer's confidence
is the retrieval confidence times the share of checked sentences that were supported.
Streaming passes only verified text on (``VerifiedStream``): a paragraph goes out once it
is complete and checked, so what a user sees streamed is what the final answer says.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from docsage.answer.confidence import Calibration, load_calibration, question_confidence
from docsage.answer.extractive import abstention_text
from docsage.answer.prompt import ABSTAIN_TEXT, Source, pack
from docsage.answer.safety import LinkGuard, withheld_step
from docsage.answer.verify import Verified, VerifiedStream
from docsage.grounding import DEFAULT_THRESHOLD
from docsage.observe import Value, model_call
from docsage.observe import usage as usage_attributes
from docsage.ports.chat import ChatModel, ChatRequest, ChatResponse, OnToken, Pricer
from docsage.retrieve import Retriever, SearchOptions, SearchResult
from docsage.types import Answer, Citation, Hit, Timings, TraceStep, Usage


@dataclass(frozen=True, kw_only=True, slots=True)
class GenerationOptions:
    max_tokens: int = 512
    threshold: float = DEFAULT_THRESHOLD
    """Lexical support a sentence needs from a source it cites (docsage.grounding)."""
    action: str = "remove"
    """What happens to an unsupported sentence: "remove" or "mark"."""
    k: int = 8
    harden: bool = True
    """Treat retrieved text as untrusted (``docsage.untrusted``): fence it, withhold
    instruction-like lines, drop images and foreign links from the answer. Off only to
    measure what these defences do (``benchmarks/injection.py``)."""
    withhold: bool = True
    """With ``harden``: withhold instruction-like lines (a heuristic; off only to measure
    what the other defences do without it)."""


def usage_of(response: ChatResponse, pricer: Pricer) -> Usage:
    return Usage(
        model=response.model,
        input_tokens=response.input_tokens,
        output_tokens=response.output_tokens,
        cost_usd=pricer.cost(response.model, response.input_tokens, response.output_tokens),
        calls=1,
        estimated=response.estimated,
    )


def observed_usage(response: ChatResponse) -> dict[str, Value]:
    return usage_attributes(response.model, response.input_tokens, response.output_tokens)


def model_step(response: ChatResponse, usage: Usage) -> TraceStep:
    detail = f"finish={response.finish_reason}"
    if response.first_token_ms:
        detail += f" ttft={response.first_token_ms:.0f}ms"
    return TraceStep(
        kind="model",
        name=response.model,
        detail=detail,
        result_chars=len(response.text),
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=usage.cost_usd,
        ms=response.ms,
    )


def citations_for(cited: Sequence[int], sources: Mapping[int, Source]) -> tuple[Citation, ...]:
    out = []
    for number in cited:
        chunk = sources[number].chunk
        out.append(
            Citation(
                number=number,
                source=chunk.source,
                anchor=chunk.anchor,
                title=chunk.title,
                lines=chunk.lines,
                quote=sources[number].text[:600],
                chunk_id=chunk.id,
            )
        )
    return tuple(out)


def model_abstained(text: str) -> bool:
    core = ABSTAIN_TEXT.lower().rstrip(".")
    return core in text.lower().replace("do not", "don't") or not text.strip()


@dataclass(frozen=True, kw_only=True, slots=True)
class Grounded:
    text: str
    citations: tuple[Citation, ...]
    verified: Verified
    abstained: bool


def ground(verified: Verified, sources: Mapping[int, Source], hits: Sequence[Hit]) -> Grounded:
    """The checked answer, or an abstention naming the closest sources when no supported
    sentence is left (a model that says the docs don't cover it ends up here too: its
    sentence cites nothing). Supported sentences next to a hedge are kept."""
    if not verified.empty:
        citations = citations_for(verified.cited, sources)
        return Grounded(text=verified.text, citations=citations, verified=verified, abstained=False)
    return Grounded(
        text=abstention(verified, hits), citations=(), verified=verified, abstained=True
    )


def abstention(verified: Verified, hits: Sequence[Hit]) -> str:
    said = " ".join(s.sentence for s in verified.verification.sentences)
    reason = (
        "the model found no answer in the sources"
        if model_abstained(said)
        else f"none of the {verified.verification.checked} generated sentences is supported "
        "by the source it cites"
    )
    lines = [f"Not found in the docs: {reason}."]
    if hits:
        lines += ["Closest sources:", *(f"  - {h.chunk.ref} ({h.chunk.title})" for h in hits[:3])]
    return "\n".join(lines)


class GenerativeAnswerer:
    def __init__(
        self,
        retriever: Retriever,
        model: ChatModel,
        *,
        pricer: Pricer,
        abstain_below: float,
        options: GenerationOptions | None = None,
        calibration: Calibration | None = None,
    ) -> None:
        self.retriever = retriever
        self.model = model
        self.pricer = pricer
        self.abstain_below = abstain_below
        self.options = options or GenerationOptions()
        self.calibration = calibration or load_calibration()

    def ask(
        self,
        question: str,
        collection: str,
        *,
        path_prefix: str = "",
        on_token: OnToken | None = None,
    ) -> Answer:
        started = time.perf_counter()
        options = SearchOptions(k=self.options.k, path_prefix=path_prefix)
        result = self.retriever.search(question, collection, options)
        store = self.retriever.store
        conf = question_confidence(store, collection, question, result.hits, self.calibration)
        version = self.retriever.store.index_version(collection)
        if not result.hits or conf < self.abstain_below:
            text = abstention_text(conf, self.abstain_below, result.hits)
            if on_token is not None:
                on_token(text)
            return self._answer(question, result, started, text=text, conf=conf, version=version)
        return self._generate(question, collection, result, conf, started, on_token, version)

    def _generate(
        self,
        question: str,
        collection: str,
        result: SearchResult,
        conf: float,
        started: float,
        on_token: OnToken | None,
        version: int,
    ) -> Answer:
        prompt = pack(
            question,
            result.hits,
            context_window=self.model.context_window,
            max_tokens=self.options.max_tokens,
            harden=self.options.harden,
            withhold=self.options.withhold,
        )
        guard = LinkGuard(self.retriever.store, collection, enabled=self.options.harden)
        sources = {s.number: s for s in prompt.sources}
        passages = {n: s.evidence for n, s in sources.items()}
        stream = VerifiedStream(
            passages,
            guard.wrap(on_token or _drop),
            threshold=self.options.threshold,
            action=self.options.action,
        )
        generate_start = time.perf_counter()
        with model_call(self.model.name) as call:
            response = self.model.complete(
                ChatRequest(messages=prompt.messages, max_tokens=self.options.max_tokens),
                stream.feed if on_token else None,
            )
            call.set(observed_usage(response))
        if not on_token:
            stream.feed(response.text)
        grounded = ground(stream.close(), sources, result.hits)
        if grounded.abstained and on_token is not None:
            on_token(grounded.text)
        text = guard.clean(grounded.text)
        usage = usage_of(response, self.pricer)
        share = grounded.verified.verification.supported / max(
            grounded.verified.verification.checked, 1
        )
        first = (stream.first_emit - started) * 1000 if stream.first_emit else 0.0
        return self._answer(
            question,
            result,
            started,
            text=text,
            conf=conf * share,
            version=version,
            citations=grounded.citations,
            abstained=grounded.abstained,
            usage=usage,
            verified=grounded.verified,
            trace=(
                *withheld_step(prompt.withheld),
                model_step(response, usage),
                *guard.steps(),
            ),
            generate_start=generate_start,
            first_token_ms=first,
        )

    def _answer(
        self,
        question: str,
        result: SearchResult,
        started: float,
        *,
        text: str,
        conf: float,
        version: int,
        citations: tuple[Citation, ...] = (),
        abstained: bool = True,
        usage: Usage | None = None,
        verified: Verified | None = None,
        trace: tuple[TraceStep, ...] = (),
        generate_start: float = 0.0,
        first_token_ms: float = 0.0,
    ) -> Answer:
        done = time.perf_counter()
        return Answer(
            question=question,
            text=text,
            citations=citations,
            confidence=round(conf, 4),
            abstained=abstained,
            sources=tuple(result.hits[:5]),
            timings=Timings(
                retrieve_ms=result.retrieve_ms,
                rerank_ms=result.rerank_ms,
                generate_ms=(done - generate_start) * 1000 if generate_start else 0.0,
                total_ms=(done - started) * 1000,
                first_token_ms=first_token_ms,
            ),
            index_version=version,
            model=self.model.name,
            usage=(usage,) if usage else (),
            trace=trace,
            verification=verified.verification if verified else None,
        )


def _drop(text: str) -> None:
    return None
