"""Answer-time citation check: every sentence of a generated answer against what it cites.

The answer is cut into units (sentences, and whole fenced code blocks) with the citation
markers each carries (``[2]``, ``[1][3]``, ``[1, 3]``). A unit without its own marker takes
the markers of its paragraph, as the eval harness does; a code block without one takes the
markers of the sentence before it. Each unit is scored with the eval harness's lexical
groundedness (:func:`docsage.grounding.sentence_support`) against each passage it cites,
keeping the best. A unit is supported when that reaches the threshold and it cites only
sources the model was given. Unsupported units are removed (``action="remove"``) or kept
with an ``[unverified]`` mark (``"mark"``). The caller abstains when nothing supported
remains. What the lexical proxy cannot see (paraphrase, negation) is listed in
``docsage.grounding``: a removal is strong evidence, a pass weaker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from docsage.grounding import DEFAULT_THRESHOLD, sentence_support
from docsage.text import (
    blocks,
    citation_numbers,
    citations_before_stop,
    format_citations,
    inside_fence,
    split_sentences,
    strip_citations,
)
from docsage.types import SentenceCheck, Verification

METHOD = "lexical-support"
UNVERIFIED = "[unverified]"


@dataclass(frozen=True, kw_only=True, slots=True)
class Unit:
    paragraph: int
    text: str
    """The unit without its markers."""
    own: tuple[int, ...]
    cited: tuple[int, ...]
    code: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Verified:
    text: str
    cited: tuple[int, ...]
    """Source numbers cited by the units kept as supported, in first-use order."""
    verification: Verification

    @property
    def empty(self) -> bool:
        return self.verification.supported == 0


def units(text: str) -> list[Unit]:
    """The checkable units of an answer with the citation numbers that vouch for each."""
    text = citations_before_stop(text)  # "It works. [1]" -> "It works [1]."
    out: list[Unit] = []
    for index, block in enumerate(blocks(text)):
        if block.code:
            code = block.text
            own = citation_numbers(code.rsplit("\n", 1)[-1])
            inherited = out[-1].cited if out and not own else own
            clean = code.rsplit("\n", 1)[0] + "\n" + strip_citations(code.rsplit("\n", 1)[-1])
            out.append(
                Unit(paragraph=index, text=clean.strip(), own=own, cited=inherited, code=True)
            )
            continue
        shared = citation_numbers(block.text)
        for sentence in split_sentences(block.text):
            clean = strip_citations(sentence).strip()
            if clean:
                own = citation_numbers(sentence)
                out.append(Unit(paragraph=index, text=clean, own=own, cited=own or shared))
    return out


def check(unit: Unit, passages: Mapping[int, str], threshold: float) -> SentenceCheck:
    unknown = [n for n in unit.cited if n not in passages]
    support = max(
        (sentence_support(unit.text, passages[n]) for n in unit.cited if n in passages), default=0.0
    )
    reason = ""
    if not unit.cited:
        reason = "cites no source"
    elif unknown:
        reason = f"cites unknown source(s) {unknown}"
    elif support < threshold:
        reason = f"support {support:.2f} < {threshold:.2f}"
    return SentenceCheck(
        sentence=unit.text,
        cited=unit.cited,
        support=round(support, 4),
        supported=not reason,
        reason=reason,
    )


def render(kept: list[tuple[Unit, bool]]) -> str:
    """Kept units back into text: sentences of a paragraph joined by spaces, each with its
    own markers; inherited markers go after the paragraph's last kept sentence."""
    paragraphs: dict[int, list[str]] = {}
    for unit, ok in kept:
        mark = "" if ok else f" {UNVERIFIED}"
        shown = format_citations(unit.own or (unit.cited if unit.code else ()))
        sep = "\n" if unit.code else " "
        piece = unit.text + (sep + shown if shown else "") + mark
        paragraphs.setdefault(unit.paragraph, []).append(piece)
    last_by_paragraph = {u.paragraph: u for u, _ in kept}
    out = []
    for index, pieces in paragraphs.items():
        last = last_by_paragraph[index]
        tail = (
            f" {format_citations(last.cited)}"
            if not last.own and last.cited and not last.code
            else ""
        )
        out.append(" ".join(pieces) + tail)
    return "\n\n".join(out)


def verify(
    text: str,
    passages: Mapping[int, str],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    action: str = "remove",
) -> Verified:
    """Check every unit of ``text`` against ``passages`` (source number -> evidence text).

    ``action`` is ``"remove"`` (drop unsupported units) or ``"mark"`` (keep them, marked
    ``[unverified]``). ``cited`` lists only sources that support a kept unit.
    """
    found = units(text)
    checks = [check(u, passages, threshold) for u in found]
    kept = [
        (u, c.supported)
        for u, c in zip(found, checks, strict=True)
        if c.supported or action == "mark"
    ]
    cited = tuple(
        dict.fromkeys(n for u, c in zip(found, checks, strict=True) if c.supported for n in u.cited)
    )
    verification = Verification(
        method=METHOD, threshold=threshold, action=action, sentences=tuple(checks)
    )
    return Verified(text=render(kept), cited=cited, verification=verification)


def _complete_prefix(text: str) -> str:
    """Text up to the last paragraph break that is not inside a code fence (as
    :func:`units` reads the text so far: a fence not yet closed runs to its end)."""
    cut = text.rfind("\n\n")
    while cut > 0 and inside_fence(text, cut):
        cut = text.rfind("\n\n", 0, cut)
    return text[:cut] if cut > 0 else ""


class VerifiedStream:
    """Streams only checked text: model tokens go in, and each paragraph comes out (to
    ``emit``) once it is complete and verified, exactly as :func:`verify` renders it, so
    the streamed text equals the final answer's text. ``first_emit`` is when the first
    verified text went out (``time.perf_counter()``), for time to first token."""

    def __init__(
        self,
        passages: Mapping[int, str],
        emit: Callable[[str], None],
        *,
        threshold: float = DEFAULT_THRESHOLD,
        action: str = "remove",
    ) -> None:
        self.passages = passages
        self.emit = emit
        self.threshold = threshold
        self.action = action
        self.raw: list[str] = []
        self.sent = ""
        self.first_emit = 0.0

    def feed(self, token: str) -> None:
        self.raw.append(token)
        if "\n" in token:
            self._flush(_complete_prefix("".join(self.raw)))

    def close(self) -> Verified:
        final = verify(
            "".join(self.raw), self.passages, threshold=self.threshold, action=self.action
        )
        self._send(final)
        return final

    def _flush(self, text: str) -> None:
        if text:
            self._send(verify(text, self.passages, threshold=self.threshold, action=self.action))

    def _send(self, checked: Verified) -> None:
        # Until one unit is supported the answer may still end as an abstention (and in
        # "mark" mode the marked text would already be out), so nothing goes out before.
        rendered = checked.text
        if checked.empty or not rendered.startswith(self.sent) or len(rendered) == len(self.sent):
            return
        if not self.first_emit:
            self.first_emit = time.perf_counter()
        self.emit(rendered[len(self.sent) :])
        self.sent = rendered
