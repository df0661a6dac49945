"""Text analysis, defined once for lexical search, grounding, answer verification, prompt
packing and the eval harness (stdlib only; imports nothing from docsage).

- Words: :func:`words` finds them (one pattern; ``ascii_only`` and ``codes`` are the options
  callers differ on), :func:`identifier_parts` splits a code name, :func:`looks_like_code`
  tells a name from an English word. :func:`index_tokens` and :func:`query_tokens` are the
  lexical index's tokens; ``docsage.grounding`` builds its weighted units from the same
  pieces.
- Stopwords: one list per purpose (see "stopword policy" below).
- Blocks: :func:`blocks` (paragraphs and whole fenced code blocks), :func:`paragraphs`,
  :func:`inside_fence`, :func:`unfence`; :func:`split_sentences` inside a block.
- Citation markers: ``[1]``, ``[1][3]``, ``[1, 3]``: :func:`citation_numbers`,
  :func:`strip_citations`, :func:`citations_before_stop`, :func:`format_citations`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

# -- words -------------------------------------------------------------------------------------

# A code is a word, a hyphen and a number (``ERR-42``, ``ISSUE-5``, ``utf-8``): tried first so
# the whole code is one word and ``X-1`` no longer matches ``X-9`` as well. A name is a run of
# word characters (not starting with a digit), dotted parts included; a number is digits,
# dotted parts included (``3.11``). Names and numbers never start at the same character.
_CODE = r"[^\W\d_][^\W_]*-\d+(?:\.\d+)*(?![\w-])|"
_NAME_OR_NUMBER = r"[^\W\d]\w*(?:\.[^\W\d]\w*)*|\d+(?:\.\d+)*"
_WORDS = {
    (ascii_only, codes): re.compile(
        (_CODE if codes else "") + _NAME_OR_NUMBER, re.ASCII if ascii_only else 0
    )
    for ascii_only in (False, True)
    for codes in (False, True)
}
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SEPARATORS = re.compile(r"[._]+")


def words(text: str, *, ascii_only: bool = False, codes: bool = False) -> list[str]:
    """The words of ``text`` in order, as written: names (``os.path.join``, ``snake_case``,
    ``Größe``), numbers (``3.11``) and, with ``codes``, hyphenated codes (``ERR-42``, which
    is otherwise the name ``ERR`` and the number ``42``). Everything else separates words.

    ``ascii_only`` reads only ASCII letters and digits as word characters (``café`` gives
    ``caf``): the grounding check and the reranker's name match use it; the lexical index
    reads every script.
    """
    return _WORDS[ascii_only, codes].findall(text)


def identifier_parts(name: str) -> list[str]:
    """Lowercased parts of a name: split at dots, underscores and camelCase changes.

    ``os.path.join`` -> os, path, join; ``getHTTPResponse`` -> get, http, response;
    ``x2y`` -> x, 2, y. Camel case is an ASCII rule: a non-ASCII piece stays whole.
    """
    parts: list[str] = []
    for piece in _SEPARATORS.split(name):
        if not piece.isascii():
            parts.append(piece.lower())
        else:
            parts.extend(m.group(0).lower() for m in _CAMEL.finditer(piece))
    return parts


def looks_like_code(word: str) -> bool:
    """Whether a name is code rather than an English word: dotted, snake_case or camelCase."""
    return "." in word or "_" in word or any(c.isupper() for c in word[1:])


def identifier_tokens(word: str) -> list[str]:
    """Index tokens of one name: its parts, then its compound forms.

    ``os.path.join`` -> os, path, join, os_path_join; ``snake_case`` -> snake, case,
    snake_case; ``CamelCase`` -> camel, case, camelcase. Compounds use ``_`` because the
    FTS5 tokenizer keeps ``_`` inside tokens (FTS5's Porter stemmer then runs on each).
    """
    dotted = [p for p in word.split(".") if p]
    out: list[str] = []
    for segment in dotted:
        parts = identifier_parts(segment)
        out.extend(parts)
        whole = segment.lower().strip("_")
        if len(parts) > 1 and whole:
            out.append(whole)
    if len(dotted) > 1:
        out.append("_".join(s.lower().strip("_") for s in dotted))
    return out


def _code_tokens(code: str) -> list[str]:
    word, number = code.split("-", 1)
    number = number.replace(".", "_")
    return [*identifier_tokens(word), number, f"{word.lower()}_{number}"]


def index_tokens(text: str) -> list[str]:
    """All tokens of ``text`` for the lexical index, in order, stopwords kept.

    A query for ``join``, ``path.join`` or ``os.path.join`` finds ``os.path.join``, and the
    full name ranks it first; ``ERR-42`` adds ``err_42``; ``3.11`` is ``3_11``.
    """
    out: list[str] = []
    for word in words(text, codes=True):
        if "-" in word:
            out.extend(_code_tokens(word))
        elif word[0].isdigit():
            out.append(word.replace(".", "_"))
        else:
            out.extend(identifier_tokens(word))
    return out


def stem(token: str) -> str:
    """A crude suffix stripper, enough for "returns"/"return" and "sorting"/"sort": what the
    answerer and the confidence model compare words by (the FTS index stems on its own)."""
    if token.endswith(("ches", "shes", "sses", "xes", "zes")) and len(token) >= 6:
        return token[:-2]  # "matches" -> "match"; but "files" -> "file" below
    for suffix in ("ing", "ed", "s"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            return token[: -len(suffix)]
    return token


def query_tokens(text: str) -> list[str]:
    """Distinct index tokens of a question, without :data:`QUERY_STOPWORDS`, first-seen order."""
    seen: dict[str, None] = {}
    for token in index_tokens(text):
        # A lone digit is noise in prose, but the exact compounds above already carry it.
        if token not in QUERY_STOPWORDS and len(token) > 1:
            seen.setdefault(token, None)
    return list(seen)


def index_text(text: str) -> str:
    """``text`` rewritten as space-separated tokens, the form stored in the FTS table."""
    return " ".join(index_tokens(text))


# -- stopword policy ---------------------------------------------------------------------------
# A stopword list belongs to a purpose, because a word that says nothing in one use says
# something in another; each list is lowercase and is matched against lowercased tokens.

QUERY_STOPWORDS = frozenset(
    """a an and are as at be but by for from has have how i if in into is it its of on or
    that the their then there these this to was what when where which while who why will with
    do does can could would should you your me my we our get use using want need way""".split()
)
"""Dropped from a search question (lexical query, title match, reranker names): the words of
asking ("how do I get"), not of the answer. Short on purpose: BM25 already discounts common
words, and a word dropped here can never match; "not" and "only" stay."""

CLAIM_STOPWORDS = frozenset(
    """a about above after again all also an and any are as at be been before being below
    between both but by can could did do does doing down during each either few for from
    further had has have having here how however if in into is it its itself just may might
    more most must no nor not of off on once only or other our out over own same shall should
    so some such than that the their them then there these they this those through to too
    under until up us use used uses using very via was we were what when where whether which
    while who whom why will with would you your""".split()
)
"""Dropped from the content units of a sentence checked against a passage (grounding): a
function word occurs in any passage, so it would vouch for any claim. Negations are in it:
the check cannot see them (``docsage.grounding`` lists what it is blind to)."""

TOPIC_STOPWORDS = frozenset(
    """a an the and or but so of to in on for with by from at as is are was were be been do
    does did i me my we you your it its this that these those them they how what when where
    which who why can could should would will shall may might must there here again also
    just please now then about into out up down use using used get set make run add remove
    delete install uninstall change enable disable configure create update find show see
    work works need want know tell explain mean often much many way ways best good
    """.split()
)
"""Dropped when taking the topic of an earlier question for a follow-up ("How do I install
tidepool?" -> "tidepool"): question words and the generic verbs a follow-up brings its own
of ("And how do I remove it?")."""

# -- blocks: fenced code and paragraphs --------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)", re.M | re.S)
"""A fenced code block: an opening line of 3+ backticks or tildes (any indent, any info
string), up to a line that starts with the same run (longer is fine), or to the end of the
text when it is never closed. Inside, other fence lines are content (a ``~~~`` line does not
close a ```` ``` ```` block)."""
_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_WHITESPACE_PARAGRAPH = re.compile(r"\n\s*\n")


class Block(NamedTuple):
    text: str
    code: bool
    """A whole fenced code block (fence lines included), not prose."""


def blocks(text: str) -> list[Block]:
    """Paragraphs and whole fenced code blocks, in order, blank paragraphs left out.

    A fence is one block however many blank lines it holds; its text keeps the fence lines
    and indentation, trailing newlines stripped. Prose between fences splits at
    :func:`paragraphs` breaks, kept as written (not stripped).
    """
    out: list[Block] = []
    pos = 0
    for fence in _FENCE.finditer(text):
        out.extend(Block(p, False) for p in paragraphs(text[pos : fence.start()]) if p.strip())
        out.append(Block(fence.group(0).strip("\n"), True))
        pos = fence.end()
    out.extend(Block(p, False) for p in paragraphs(text[pos:]) if p.strip())
    return out


def paragraphs(text: str, *, any_whitespace: bool = False) -> list[str]:
    """``text`` split at blank lines, fences not considered, empty pieces kept.

    A break is a newline, one line of nothing but spaces or tabs, and any further empty
    lines (``\\n[ \\t]*\\n+``). ``any_whitespace`` makes any run of whitespace that holds two
    newlines a break (``\\n\\s*\\n``): several blank lines with spaces on them, as in pydoc's
    text, are then one break, and the next paragraph starts at its first visible line.
    """
    return (_WHITESPACE_PARAGRAPH if any_whitespace else _PARAGRAPH).split(text)


def inside_fence(text: str, index: int) -> bool:
    """Whether position ``index`` of ``text`` lies inside a fenced code block, as
    :func:`blocks` reads the whole text (an unclosed fence runs to the end)."""
    return any(f.start() < index < f.end() for f in _FENCE.finditer(text))


_WHOLE_FENCE = re.compile(r"^\s*```(?:json)?\s*\n(.*?)\n\s*```\s*$", re.S)


def unfence(text: str) -> str:
    """The body of a reply that is one ```` ``` ```` fence (untagged or ``json``), else the
    reply stripped: what a model that wraps its JSON in a fence meant."""
    match = _WHOLE_FENCE.match(text)
    return match.group(1) if match else text.strip()


# -- sentences ---------------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_LIST_ITEM = re.compile(r"\n(?=[ \t]*(?:[-*+]|\d+[.)])[ \t])")
_END = re.compile(r"[.!?]+[\"')\]]*\s+")
_NEVER_END = frozenset({"e.g.", "i.e.", "cf.", "vs.", "approx.", "fig.", "no.", "mr.", "dr."})
_END_IF_CAPITAL = frozenset({"etc."})
_HOLD = "\x00{}\x01"
_HELD = re.compile("\x00(\\d+)\x01")


def _is_boundary(before: str, after: str) -> bool:
    """Whether the punctuation that ends ``before`` ends a sentence, given the text after."""
    if not after:
        return True
    word = before[-40:].rsplit(None, 1)[-1].lower().lstrip("(\"'")
    if word in _NEVER_END:
        return False
    if word in _END_IF_CAPITAL:
        return after[0].isupper()
    return not after[0].islower()


def _split_prose(text: str) -> list[str]:
    sentences, start = [], 0
    for match in _END.finditer(text):
        end = match.end()
        if _is_boundary(text[: match.start() + 1], text[end:]):
            sentences.append(text[start:end])
            start = end
    sentences.append(text[start:])
    return [" ".join(s.split()) for s in sentences if s.strip()]


def _split_paragraph(paragraph: str) -> list[str]:
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return _HOLD.format(len(spans) - 1)

    held = _CODE_SPAN.sub(hold, paragraph)
    parts = (s for item in _LIST_ITEM.split(held) for s in _split_prose(item))
    return [_HELD.sub(lambda m: spans[int(m.group(1))], s) for s in parts]


def split_sentences(text: str) -> list[str]:
    """Rule-based sentence splitter for technical prose.

    - a fenced code block (:func:`blocks`) is one unit, kept verbatim; inline code spans in
      backticks are never split;
    - a sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes or brackets) followed by
      whitespace, so ``os.path.join`` and ``3.11`` never split;
    - "e.g.", "i.e.", "cf.", "vs." never end a sentence; "etc." ends one only before a
      capital letter; no sentence ends before a lowercase letter;
    - blank lines and list items (``-``, ``*``, ``+``, ``1.``) always start a new unit.

    Whitespace inside a prose sentence is collapsed to single spaces.
    """
    units: list[str] = []
    for block in blocks(text):
        units.extend([block.text] if block.code else _split_paragraph(block.text))
    return units


# -- citation markers --------------------------------------------------------------------------

_MARKER = r"\[\d+(?:\s*,\s*\d+)*\]"
_MARKERS = re.compile(rf"(?:\s*{_MARKER})+")
_AFTER_STOP = re.compile(rf"([.!?:])((?:[ \t]*{_MARKER})+)")
_NUMBER = re.compile(r"\d+")


def citation_numbers(text: str) -> tuple[int, ...]:
    """Every source number cited in ``text``, in order: ``"a [1] b [2, 3][4]"`` -> 1, 2, 3, 4.

    A marker is ``[n]``, a run of them (``[1][3]``) or a list (``[1, 3]``); other brackets
    (``[^1]``, ``[S1]``, ``[ 1 ]``, ``[x]``) are not markers.
    """
    return tuple(int(n) for m in _MARKERS.finditer(text) for n in _NUMBER.findall(m.group(0)))


def strip_citations(text: str) -> str:
    """``text`` without its markers, each with the whitespace before it: ``"It works [1]."``
    -> ``"It works."``. Nothing else changes (strip the ends yourself)."""
    return _MARKERS.sub("", text)


def citations_before_stop(text: str) -> str:
    """Markers written after the punctuation that ends a sentence moved before it, so they
    stay with the sentence they close: ``"It works. [1]"`` -> ``"It works [1]."``."""
    return _AFTER_STOP.sub(r"\2\1", text)


def format_citations(numbers: Iterable[int]) -> str:
    """The marker text for source numbers, each once in first-use order: ``[1][3]``."""
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers))
