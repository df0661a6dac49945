"""Routing: a cheap model first, a stronger one when the answer is weak, a fallback when
models fail.

``RoutedAnswerer`` tries its routes in order. It moves on (escalates) when an answer's
verification removed too much (supported share under ``min_supported``) or its confidence is
under ``min_confidence``, and it moves on (falls back) when a model fails with a
``TransientModelError`` (timeouts, dropped connections, 429, 5xx, after the adapter's own
retries). Other errors propagate: a bad key or a bad request is not fixed by another model.
An answer that abstained before any model call (retrieval found nothing good) is final:
a stronger model cannot fix retrieval. When streaming, a route that already sent verified
text is final too, so a reader never sees two answers. The answer carries one ``Usage``
per model called and a ``route`` trace step per decision, so costs by route add up.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from docsage.answer.extractive import ExtractiveAnswerer
from docsage.errors import TransientModelError
from docsage.ports.chat import Answerer, OnToken
from docsage.types import Answer, TraceStep, Usage


class ExtractiveRoute:
    """The extractive answerer as an ``Answerer``: it streams its text in one piece."""

    def __init__(self, inner: ExtractiveAnswerer) -> None:
        self.inner = inner

    def ask(
        self,
        question: str,
        collection: str,
        *,
        path_prefix: str = "",
        on_token: OnToken | None = None,
    ) -> Answer:
        started = time.perf_counter()
        answer = self.inner.ask(question, collection, path_prefix=path_prefix)
        if on_token is None:
            return answer
        on_token(answer.text)
        first = (time.perf_counter() - started) * 1000
        return replace(answer, timings=replace(answer.timings, first_token_ms=first))


def failures(answer: Answer) -> list[str]:
    """The error classes of the routes that failed before ``answer`` was given: an answer
    with any is not what the configured route produces (and the service does not cache it)."""
    return [
        s.detail.removeprefix("fell back (").removesuffix(")")
        for s in answer.trace
        if s.kind == "route" and s.detail.startswith("fell back (")
    ]


def weak(answer: Answer, min_confidence: float, min_supported: float) -> str:
    """Why ``answer`` should be escalated, or "" when it is good enough (or final)."""
    check = answer.verification
    if check is None:
        return ""
    share = check.supported / max(check.checked, 1)
    if answer.abstained or share < min_supported:
        return f"verification kept {check.supported}/{check.checked} sentences"
    if answer.confidence < min_confidence:
        return f"confidence {answer.confidence:.2f} < {min_confidence:.2f}"
    return ""


class RoutedAnswerer:
    def __init__(
        self,
        routes: Sequence[tuple[str, Answerer]],
        *,
        fallback: tuple[str, Answerer] | None = None,
        min_confidence: float = 0.0,
        min_supported: float = 1.0,
    ) -> None:
        self.routes = list(routes)
        self.fallback = fallback
        self.min_confidence = min_confidence
        self.min_supported = min_supported

    def ask(
        self,
        question: str,
        collection: str,
        *,
        path_prefix: str = "",
        on_token: OnToken | None = None,
    ) -> Answer:
        steps: list[TraceStep] = []
        usage: list[Usage] = []
        streamed: list[str] = []

        def forward(text: str) -> None:
            streamed.append(text)
            if on_token is not None:
                on_token(text)

        last: Answer | None = None
        for index, (name, answerer) in enumerate(self.routes):
            final_route = index == len(self.routes) - 1
            try:
                last = answerer.ask(
                    question,
                    collection,
                    path_prefix=path_prefix,
                    on_token=forward if on_token else None,
                )
            except TransientModelError as exc:
                reason = type(exc).__name__
                steps.append(
                    TraceStep(
                        kind="route", name=name, detail=f"fell back ({reason})", error=str(exc)
                    )
                )
                continue
            usage.extend(last.usage)
            steps.extend(last.trace)
            reason = weak(last, self.min_confidence, self.min_supported)
            if not reason or final_route or streamed:
                steps.append(TraceStep(kind="route", name=name, detail="answered"))
                return replace(last, usage=tuple(usage), trace=tuple(steps))
            steps.append(TraceStep(kind="route", name=name, detail=f"escalated: {reason}"))
        return self._fallback(question, collection, path_prefix, on_token, steps, usage, last)

    def _fallback(
        self,
        question: str,
        collection: str,
        path_prefix: str,
        on_token: OnToken | None,
        steps: list[TraceStep],
        usage: list[Usage],
        last: Answer | None,
    ) -> Answer:
        if self.fallback is None:
            if last is not None:
                return replace(last, usage=tuple(usage), trace=tuple(steps))
            failure = steps[-1].error if steps else "no route configured"
            raise TransientModelError(f"every model failed; last: {failure}")
        name, answerer = self.fallback
        answer = answerer.ask(question, collection, path_prefix=path_prefix, on_token=on_token)
        steps.append(TraceStep(kind="route", name=name, detail="fallback answered"))
        return replace(answer, usage=tuple(usage) + answer.usage, trace=tuple(steps))
