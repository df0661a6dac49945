"""The grounded prompt: the question and numbered sources, packed to fit the model.

Packing keeps the best evidence: sources go in rank order, each whole if it fits; a source
that does not fit whole is cut at a block boundary (a paragraph, or a sentence inside a
long paragraph), never inside a fenced code block; a source whose first block does not fit
is left out, and so is everything after the budget runs out. The budget is the model's
context window less the reply's ``max_tokens``, the instructions, the question and a margin.

The sources are untrusted data (``docsage.untrusted``): unless ``harden`` is off, they go
inside a fence with a fresh random boundary that the system prompt names as data, never
instructions, and lines that read like instructions to an AI are withheld from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from docsage.models.chat import estimate_tokens
from docsage.ports.chat import Message
from docsage.text import blocks, split_sentences
from docsage.types import Chunk, Hit
from docsage.untrusted import fence, fence_rule, new_boundary, withhold_instructions

ABSTAIN_TEXT = "The docs don't cover this."
SYSTEM = f"""You answer developers' questions about a software project using ONLY the \
numbered sources the user gives you.
Rules:
- End every sentence with the number of the source that states it, like [1] or [1][3].
- Use only facts the sources state; copy names, code and numbers exactly as written.
- You may add one fenced code block copied from a source, followed by its citation.
- If the sources do not answer the question, reply exactly: {ABSTAIN_TEXT}
- Be brief: at most five sentences."""
MARGIN_TOKENS = 32
MAX_SOURCES = 6


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """A numbered source as the model saw it (``text`` may be a cut of the chunk)."""

    number: int
    chunk: Chunk
    text: str

    @property
    def evidence(self) -> str:
        """What a sentence citing this source is checked against: title and text."""
        return f"{self.chunk.title}\n{self.text}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Prompt:
    messages: tuple[Message, ...]
    sources: tuple[Source, ...]
    tokens: int
    left_out: int
    """Candidate sources that did not fit the budget."""
    withheld: int = 0
    """Instruction-like lines withheld from the sources (``untrusted.withhold_instructions``)."""


def fit(text: str, budget: int) -> str:
    """The longest prefix of whole blocks within ``budget`` tokens; a prose block that
    would overflow is cut at a sentence boundary. "" when not even that fits."""
    kept: list[str] = []
    used = 0
    for block in blocks(text):  # paragraphs and whole fenced code blocks
        cost = estimate_tokens(block.text) + 1
        if used + cost <= budget:
            kept.append(block.text)
            used += cost
            continue
        if not block.code:
            kept.extend(_sentences_within(block.text, budget - used))
        break
    return "\n\n".join(kept)


def _sentences_within(block: str, budget: int) -> list[str]:
    taken: list[str] = []
    for sentence in split_sentences(block):
        cost = estimate_tokens(sentence) + 1
        if cost > budget:
            break
        taken.append(sentence)
        budget -= cost
    return [" ".join(taken)] if taken else []


def header(number: int, chunk: Chunk) -> str:
    return f"[{number}] {chunk.ref} — {chunk.title}"


def render_sources(sources: Sequence[Source]) -> str:
    return "\n\n".join(f"{header(s.number, s.chunk)}\n{s.text}" for s in sources)


def user_message(question: str, sources: Sequence[Source], boundary: str = "") -> str:
    """The question and the sources, fenced as untrusted data when ``boundary`` is set."""
    body = render_sources(sources)
    if boundary:
        body = fence(body, boundary, label="sources")
    return f"Question: {question}\n\nSources:\n\n{body}"


def guarded_system(system: str, boundary: str) -> str:
    """``system`` with the rule for text fenced with ``boundary`` (none when it is "")."""
    return f"{system}\n{fence_rule(boundary)}" if boundary else system


def pack(
    question: str,
    hits: Sequence[Hit],
    *,
    context_window: int,
    max_tokens: int,
    max_sources: int = MAX_SOURCES,
    system: str = SYSTEM,
    harden: bool = True,
    withhold: bool = True,
) -> Prompt:
    """Messages for ``question`` with as much of the best evidence as fits (see module)."""
    boundary = new_boundary() if harden else ""
    system = guarded_system(system, boundary)
    fixed = estimate_tokens(system) + estimate_tokens(user_message(question, [], boundary)) + 8
    budget = context_window - max_tokens - fixed - MARGIN_TOKENS
    sources: list[Source] = []
    seen: set[str] = set()
    withheld = 0
    for hit in hits:
        if len(sources) == max_sources or hit.chunk.id in seen:
            continue
        head = estimate_tokens(header(len(sources) + 1, hit.chunk)) + 2
        guarded = harden and withhold
        shown, count = withhold_instructions(hit.chunk.text) if guarded else (hit.chunk.text, 0)
        text = fit(shown, budget - head)
        if not text:
            continue
        seen.add(hit.chunk.id)
        withheld += count
        sources.append(Source(number=len(sources) + 1, chunk=hit.chunk, text=text))
        budget -= head + estimate_tokens(text) + 1
    messages = (
        Message(role="system", content=system),
        Message(role="user", content=user_message(question, sources, boundary)),
    )
    used = sum(estimate_tokens(m.content) + 4 for m in messages)
    return Prompt(
        messages=messages,
        sources=tuple(sources),
        tokens=used,
        left_out=len({h.chunk.id for h in hits}) - len(sources),
        withheld=withheld,
    )
