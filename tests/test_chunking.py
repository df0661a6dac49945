"""Chunking: whole blocks packed to a budget, oversized blocks split at lines, API leads."""

from __future__ import annotations

from docsage.ingest.chunking import (
    ChunkingPolicy,
    chunk_sections,
    embed_text,
    lead_split,
    pack_blocks,
)
from docsage.types import Block, Section

POLICY = ChunkingPolicy(target_chars=100, hard_max_chars=300)


def _prose(n: int, start: int) -> Block:
    return Block(text="x" * n, line_start=start, line_end=start)


def test_blocks_are_packed_greedily_and_never_split() -> None:
    blocks = [_prose(40, 1), _prose(40, 3), _prose(40, 5), _prose(150, 7)]
    groups = pack_blocks(blocks, POLICY)
    assert [[b.line_start for b in g] for g in groups] == [[1, 3], [5], [7]]
    assert groups[2][0].text == "x" * 150  # over target but under the hard limit: whole


def test_a_code_block_with_blank_lines_stays_one_block() -> None:
    code = Block(
        text="def f():\n\n    return 1\n\n\nprint(f())", kind="code", line_start=10, line_end=15
    )
    groups = pack_blocks([_prose(90, 1), code], POLICY)
    assert groups[1] == [code]


def test_a_block_over_the_hard_limit_is_split_at_line_boundaries_with_lines() -> None:
    lines = [f"line {i:03d} " + "y" * 40 for i in range(10)]
    big = Block(text="\n".join(lines), kind="code", line_start=20, line_end=29)
    groups = pack_blocks([big], POLICY)
    pieces = [b for g in groups for b in g]
    assert "\n".join(p.text for p in pieces) == big.text
    assert pieces[0].line_start == 20 and pieces[-1].line_end == 29
    assert all(p.kind == "code" for p in pieces)
    assert [p.line_start for p in pieces] == sorted(p.line_start for p in pieces)


def _api(*blocks: Block) -> Section:
    return Section(
        title="f(x)", anchor="mod.f", heading_path=("mod", "f(x)"), blocks=blocks, kind="api"
    )


def test_an_api_entry_leads_with_its_signature_and_first_paragraph() -> None:
    sig = Block(text="f(x, y=1)", kind="code")
    first = Block(text="Return the thing.")
    rest = (Block(text="Details."), Block(text="More details."))
    assert lead_split(_api(sig, first, *rest)) == [(sig, first), rest]
    assert lead_split(_api(first)) == [(first,)]
    section = Section(title="Guide", anchor="guide", heading_path=("Guide",), blocks=(first, *rest))
    assert lead_split(section) == [(first, *rest)]


def test_chunks_keep_provenance_and_stable_ids() -> None:
    section = _api(
        Block(text="Return the thing.", line_start=3, line_end=3),
        Block(text="More.", line_start=5, line_end=6),
    )
    chunks = chunk_sections([section], collection="c", source="mod.py", policy=POLICY)
    assert [(c.anchor, c.lines, c.ordinal) for c in chunks] == [
        ("mod.f", (3, 3), 0),
        ("mod.f", (5, 6), 1),
    ]
    again = chunk_sections([section], collection="c", source="mod.py", policy=POLICY)
    assert [c.id for c in chunks] == [c.id for c in again]
    other = chunk_sections([section], collection="d", source="mod.py", policy=POLICY)
    assert chunks[0].id != other[0].id and chunks[0].text_hash == other[0].text_hash


def test_embed_text_prefixes_the_two_innermost_headings() -> None:
    assert (
        embed_text(("Library", "os.path", "join(a, *p)"), "Join paths.")
        == "os.path > join(a, *p)\nJoin paths."
    )
    assert embed_text((), "Plain.") == "Plain."


def test_embedding_batches_respect_the_token_budget_and_the_item_cap() -> None:
    from docsage.models.onnx import OnnxMiniLM

    model = OnnxMiniLM.__new__(OnnxMiniLM)  # batching only; no model needed
    model.batch_size, model.batch_tokens = 4, 10
    lengths = [1, 1, 1, 1, 1, 2, 3, 5, 11, 12]
    batches = model.batches(lengths)
    assert [list(b) for b in batches] == [[0, 1, 2, 3], [4, 5, 6], [7], [8], [9]]
    assert [i for b in batches for i in b] == list(range(len(lengths)))
    assert model.batches([]) == []


def test_a_split_block_whose_text_is_not_its_source_lines_keeps_the_whole_range() -> None:
    # A glossary-like list: 12 items written over source lines 40-75, rendered one per line.
    items = [f"- term {i:02d}: " + "definition words " * 3 for i in range(12)]
    listing = Block(text="\n".join(items), kind="list", line_start=40, line_end=75)
    pieces = [b for g in pack_blocks([listing], POLICY) for b in g]
    assert len(pieces) > 1
    assert {(p.line_start, p.line_end) for p in pieces} == {(40, 75)}
    assert "\n".join(p.text for p in pieces) == listing.text


def test_code_is_fenced_in_chunk_text_so_readers_tell_it_from_prose() -> None:
    code = Block(text="x = `a` + ```b```\nprint(x)", kind="code", line_start=3, line_end=4)
    intro = Block(text="For example:", line_start=1, line_end=1)
    after = Block(text="That prints ab.", line_start=6, line_end=6)
    section = Section(
        title="Joining",
        anchor="join",
        heading_path=("Guide", "Joining"),
        blocks=(intro, code, after),
    )
    (chunk,) = chunk_sections([section], collection="c", source="g.md", policy=ChunkingPolicy())
    # The fence is longer than the longest backtick run inside, so the code cannot close it.
    assert chunk.text == f"For example:\n\n````\n{code.text}\n````\n\nThat prints ab."
    # What the embedder reads is the text as it was before fencing: stored vectors stay valid.
    unfenced = "\n\n".join(b.text for b in (intro, code, after))
    assert (
        embed_text(section.heading_path, chunk.text)
        == embed_text(section.heading_path, unfenced)
        == f"Guide > Joining\n{unfenced}"
    )
