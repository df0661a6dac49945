"""Plain data passed between layers: frozen, keyword-only dataclasses, stdlib only.

The flow is ``Section`` (what a parser finds) -> ``Chunk`` (what the store keeps) ->
``Hit`` (what retrieval returns) -> ``Answer`` (what the user gets, with ``Citation``s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["prose", "code", "table", "list"]
SectionKind = Literal["section", "api", "module", "class", "function", "record", "text"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """An atomic piece of a section that chunking never splits (a paragraph, a code block)."""

    text: str
    kind: BlockKind = "prose"
    line_start: int | None = None
    line_end: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Section:
    """A structural unit found by a parser: a heading's section, an API entry, a function.

    ``anchor`` is what a citation points at inside the source: an HTML element id, a heading
    slug, a Python qualified name or a record id. ``heading_path`` runs from the top heading
    down to this section's own title. Line numbers are 1-based and inclusive, ``None`` where
    the source is not line-oriented text (HTML).
    """

    title: str
    anchor: str
    heading_path: tuple[str, ...]
    blocks: tuple[Block, ...]
    kind: SectionKind = "section"

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    @property
    def line_start(self) -> int | None:
        starts = [b.line_start for b in self.blocks if b.line_start is not None]
        return min(starts) if starts else None

    @property
    def line_end(self) -> int | None:
        ends = [b.line_end for b in self.blocks if b.line_end is not None]
        return max(ends) if ends else None


API_KINDS = frozenset({"api", "function", "class"})
"""Chunk kinds that document one API entry (a function, class or other object)."""

EXTRACTIVE = "extractive"
"""The model name of answers composed from the sources without a language model."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Chunk:
    """A retrievable unit with its provenance. ``id`` is stable for the same content."""

    id: str
    collection: str
    source: str
    anchor: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    kind: SectionKind
    line_start: int | None
    line_end: int | None
    ordinal: int = 0
    text_hash: str = ""

    @property
    def ref(self) -> str:
        """``source#anchor``, the form citations and eval datasets use."""
        return f"{self.source}#{self.anchor}" if self.anchor else self.source

    @property
    def heading(self) -> str:
        """The chunk's own section heading (the page title for a page's lead)."""
        return self.heading_path[-1] if self.heading_path else self.title

    @property
    def lines(self) -> tuple[int, int] | None:
        if self.line_start is None or self.line_end is None:
            return None
        return (self.line_start, self.line_end)


@dataclass(frozen=True, kw_only=True, slots=True)
class Document:
    """One ingested file (or record set) and the hash of the bytes it was built from."""

    collection: str
    source: str
    content_hash: str
    title: str = ""
    size: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class Hit:
    """A retrieved chunk, its fused score and the rank it had in each retriever (1-based)."""

    chunk: Chunk
    score: float
    lexical_rank: int | None = None
    dense_rank: int | None = None
    lexical_score: float | None = None
    dense_score: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Citation:
    """A numbered reference in an answer; ``quote`` is the evidence text it stands for."""

    number: int
    source: str
    anchor: str
    title: str
    lines: tuple[int, int] | None
    quote: str
    chunk_id: str

    @property
    def ref(self) -> str:
        return f"{self.source}#{self.anchor}" if self.anchor else self.source


@dataclass(frozen=True, kw_only=True, slots=True)
class Timings:
    """Milliseconds per stage of answering one question."""

    retrieve_ms: float = 0.0
    rerank_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    first_token_ms: float = 0.0
    """Time from the start of ``ask`` to the first streamed token; 0 when nothing streamed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Usage:
    """Tokens and cost of the model calls one model made for an answer. ``estimated`` is
    true when the server reported no counts (a stream without a usage chunk) and docsage
    counted them itself."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    estimated: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class SentenceCheck:
    """One answer sentence checked against the passages it cites."""

    sentence: str
    cited: tuple[int, ...]
    support: float
    supported: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Verification:
    """What the answer-time citation check did: every sentence, its support, and how the
    unsupported ones were handled (``removed`` or ``marked``)."""

    method: str
    threshold: float
    action: str
    sentences: tuple[SentenceCheck, ...] = ()

    @property
    def checked(self) -> int:
        return len(self.sentences)

    @property
    def supported(self) -> int:
        return sum(1 for s in self.sentences if s.supported)


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceStep:
    """One step of an answer: a model call or a tool call, with its cost and size."""

    kind: str
    name: str
    detail: str = ""
    result_chars: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    ms: float = 0.0
    error: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Answer:
    """What ``ask`` returns. When ``abstained`` the text says so and ``sources`` lists the
    closest chunks instead of evidence."""

    question: str
    text: str
    citations: tuple[Citation, ...]
    confidence: float
    abstained: bool
    sources: tuple[Hit, ...] = ()
    timings: Timings = field(default_factory=Timings)
    index_version: int = 0
    model: str = EXTRACTIVE
    usage: tuple[Usage, ...] = ()
    """One entry per model that was called (the route, in order); empty for extractive."""
    verification: Verification | None = None
    trace: tuple[TraceStep, ...] = ()

    @property
    def cost_usd(self) -> float:
        return sum(u.cost_usd for u in self.usage)

    @property
    def tokens(self) -> int:
        return sum(u.input_tokens + u.output_tokens for u in self.usage)


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedFile:
    source: str
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FileNote:
    """Something a user should know about a file that was ingested: the charset guessed for
    text that was not UTF-8, or chunks cut at a limit."""

    source: str
    note: str


@dataclass(frozen=True, kw_only=True, slots=True)
class IngestReport:
    """Summary printed at the end of an ingest run."""

    collection: str
    files_seen: int = 0
    files_ingested: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    chunks_written: int = 0
    chunks_embedded: int = 0
    chunks_total: int = 0
    vectors_missing: int = 0
    invisible_removed: int = 0
    """Invisible and bidi control characters removed from the files (ingest/sanitize.py)."""
    markup_removed: int = 0
    """HTML comments, script/style elements and event-handler attributes removed."""
    skipped: tuple[SkippedFile, ...] = ()
    notes: tuple[FileNote, ...] = ()
    index_version: int = 0
    seconds: float = 0.0
