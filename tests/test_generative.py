"""Grounded generation with scripted models: prompt packing, citation parsing, per-sentence
verification (remove, mark, abstain), usage and cost, streaming of verified text, routing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from docsage.answer.prompt import ABSTAIN_TEXT, fit, pack
from docsage.answer.routing import failures
from docsage.answer.verify import UNVERIFIED, VerifiedStream, units, verify
from docsage.app import Docsage
from docsage.errors import TransientModelError
from docsage.models.chat import estimate_tokens
from docsage.models.fake import ScriptedChatModel
from docsage.settings import Settings
from docsage.testing.store_fixtures import make_chunk
from docsage.text import blocks, citation_numbers
from docsage.types import Hit

GUIDE = """\
# Guide

Install with pip install tidepool.

## Retries

Set max_retries to control how often a failed job is attempted again. The default is
three retries with exponential backoff.

## Timeouts

Every request times out after timeout_s seconds. Set timeout_s to 0 to wait forever.
"""
GOOD = "Set max_retries to control how often a failed job is attempted again [1]."
INVENTED = "Retries are also billed per attempt in the enterprise plan [1]."


@pytest.fixture
def ds(tmp_path: Path) -> Iterator[Docsage]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE)
    settings = Settings.from_env({}, home=tmp_path / "home", embedder="fake:hash")
    with Docsage(settings) as ds:
        ds.ingest(docs, collection="c")
        yield ds


def use(ds: Docsage, model: ScriptedChatModel, spec: str = "fake:scripted") -> None:
    """Register a scripted model under ``spec`` for this Docsage."""
    ds.add_chat_model(spec, model)


# -- prompt packing ----------------------------------------------------------------------------


def _hit(text: str, n: int = 0, title: str = "T") -> Hit:
    chunk = make_chunk("c", f"s{n}.md", text, anchor=f"a{n}", title=title)
    return Hit(chunk=chunk, score=1.0 / (n + 1))


def test_blocks_keep_fenced_code_whole() -> None:
    text = "Intro.\n\n```py\na = 1\n\nb = 2\n```\n\nOutro."
    assert [b.text for b in blocks(text)] == ["Intro.", "```py\na = 1\n\nb = 2\n```", "Outro."]


def test_fit_never_cuts_a_code_block_and_cuts_prose_at_sentences() -> None:
    code = "```py\n" + "x = 1\n" * 40 + "```"
    text = f"First sentence here. Second sentence here.\n\n{code}\n\nAfter."
    assert fit(text, 1000) == text.replace("\n\n", "\n\n")
    assert fit(text, 20) == "First sentence here. Second sentence here."
    assert fit(text, 8) == "First sentence here."
    assert fit(code + "\n\nTail.", 10) == ""


def test_pack_keeps_the_best_sources_within_the_context_window() -> None:
    hits = [_hit("word " * 300, n) for n in range(5)]
    prompt = pack("q?", hits, context_window=1200, max_tokens=200)
    assert 0 < len(prompt.sources) < 5 and prompt.left_out == 5 - len(prompt.sources)
    assert [s.chunk.source for s in prompt.sources] == [
        f"s{n}.md" for n in range(len(prompt.sources))
    ]
    assert prompt.tokens <= 1200 - 200
    assert "[1] s0.md#a0 — T" in prompt.messages[1].content


def test_estimate_is_conservative() -> None:
    assert estimate_tokens("") == 0 and estimate_tokens("abcdefg") == 2


# -- citation parsing and verification ---------------------------------------------------------


def test_numbers_parses_every_marker_form() -> None:
    assert citation_numbers("a [1] b [2][3] c [4, 5]") == (1, 2, 3, 4, 5)


def test_a_sentence_without_a_marker_takes_its_paragraphs_markers() -> None:
    found = units("It retries. It backs off [2].\n\nOther [3].")
    assert [(u.text, u.cited) for u in found] == [
        ("It retries.", (2,)),
        ("It backs off.", (2,)),
        ("Other.", (3,)),
    ]


PASSAGES = {1: "Retries\nSet max_retries to control how often a failed job is attempted again."}


def test_verification_removes_an_unsupported_sentence_and_reports_it() -> None:
    result = verify(f"{GOOD} {INVENTED}", PASSAGES)
    assert (
        result.text == "Set max_retries to control how often a failed job is attempted again. [1]"
    )
    check = result.verification
    assert (check.checked, check.supported) == (2, 1)
    bad = check.sentences[1]
    assert not bad.supported and bad.reason.startswith("support") and bad.support < 0.6


def test_mark_mode_keeps_the_sentence_flagged() -> None:
    result = verify(f"{GOOD} {INVENTED}", PASSAGES, action="mark")
    assert INVENTED.replace(" [1].", ".") + f" [1] {UNVERIFIED}" in result.text


def test_uncited_and_unknown_citations_are_unsupported() -> None:
    result = verify("Set max_retries to control attempts. Also max_retries [7].", PASSAGES)
    reasons = [s.reason for s in result.verification.sentences]
    assert reasons == ["cites unknown source(s) [7]", "cites unknown source(s) [7]"]
    assert result.empty and result.text == ""
    assert (
        verify("Set max_retries to control how often.", PASSAGES).verification.sentences[0].reason
        == "cites no source"
    )


def test_streamed_verified_text_equals_the_final_text() -> None:
    text = f"{GOOD}\n\n{INVENTED}\n\n```\nmax_retries = 3\n```\n\n{GOOD}"
    out: list[str] = []
    stream = VerifiedStream(PASSAGES, out.append)
    for piece in text.split(" "):
        stream.feed(piece + " ")
    final = stream.close()
    assert "".join(out) == final.text
    assert len(out) >= 2  # paragraphs went out before the model finished
    assert "enterprise" not in final.text


# -- the generative answerer -------------------------------------------------------------------


def test_generative_answer_is_verified_costed_and_cited(ds: Docsage, tmp_path: Path) -> None:
    model = ScriptedChatModel([f"{GOOD} {INVENTED}"], name="openai:cheap")
    use(ds, model, "openai:cheap")
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"openai:cheap": {"input": 1.0, "output": 2.0}}))
    _routing(ds, price_table=str(prices))
    answer = ds.ask("how do I set max_retries?", collection="c", model="openai:cheap")
    assert not answer.abstained
    assert "enterprise" not in answer.text and "[1]" in answer.text
    assert [c.ref for c in answer.citations] == ["guide.md#retries"]
    usage = answer.usage[0]
    assert usage.model == "openai:cheap" and usage.input_tokens > 0
    assert usage.cost_usd == pytest.approx((usage.input_tokens + 2 * usage.output_tokens) / 1e6)
    assert answer.verification is not None and answer.verification.supported == 1
    system, user = model.requests[0].messages
    assert "[1] guide.md#retries" in user.content and "only" in system.content.lower()


def test_nothing_supported_means_abstention(ds: Docsage) -> None:
    use(ds, ScriptedChatModel([INVENTED]))
    answer = ds.ask("how do I set max_retries?", collection="c", model="fake:scripted")
    assert answer.abstained and answer.citations == ()
    assert answer.text.startswith("Not found in the docs")
    assert answer.verification is not None and answer.verification.supported == 0


def test_the_model_saying_the_docs_dont_cover_it_is_an_abstention(ds: Docsage) -> None:
    use(ds, ScriptedChatModel([ABSTAIN_TEXT]))
    answer = ds.ask("how do I set max_retries?", collection="c", model="fake:scripted")
    assert answer.abstained and "no answer in the sources" in answer.text


def test_uncovered_question_abstains_without_a_model_call(ds: Docsage) -> None:
    model = ScriptedChatModel([])
    use(ds, model)
    answer = ds.ask("zebra migration patterns in antarctica", collection="c", model="fake:scripted")
    assert answer.abstained and model.requests == [] and answer.usage == ()


def test_streaming_delivers_only_verified_text_and_measures_first_token(ds: Docsage) -> None:
    use(ds, ScriptedChatModel([f"{GOOD}\n\n{INVENTED}"]))
    got: list[str] = []
    answer = ds.ask(
        "how do I set max_retries?", collection="c", model="fake:scripted", on_token=got.append
    )
    assert "".join(got) == answer.text and "enterprise" not in "".join(got)
    assert 0 < answer.timings.first_token_ms <= answer.timings.total_ms


# -- routing -----------------------------------------------------------------------------------


def _routing(ds: Docsage, **overrides: str) -> None:
    ds.settings = Settings.from_env({}, home=ds.settings.home, embedder="fake:hash", **overrides)


def test_escalates_to_the_strong_model_when_verification_fails(ds: Docsage) -> None:
    cheap = ScriptedChatModel([INVENTED], name="fake:cheap")
    strong = ScriptedChatModel([GOOD], name="fake:strong")
    use(ds, cheap, "fake:cheap")
    use(ds, strong, "fake:strong")
    _routing(ds, escalate_model="fake:strong")
    answer = ds.ask("how do I set max_retries?", collection="c", model="fake:cheap")
    assert not answer.abstained and [u.model for u in answer.usage] == ["fake:cheap", "fake:strong"]
    routes = [(s.name, s.detail) for s in answer.trace if s.kind == "route"]
    assert routes[0][0] == "fake:cheap" and routes[0][1].startswith("escalated: verification")
    assert routes[1] == ("fake:strong", "answered")


def test_falls_back_to_extractive_on_a_transient_failure(ds: Docsage) -> None:
    use(ds, ScriptedChatModel([TransientModelError("server answered 503")]))
    _routing(ds, fallback_model="extractive")
    answer = ds.ask("how do I set max_retries?", collection="c", model="fake:scripted")
    assert not answer.abstained and answer.model == "extractive"
    assert [s.detail for s in answer.trace if s.kind == "route"] == [
        "fell back (TransientModelError)",
        "fallback answered",
    ]
    assert answer.trace[0].error == "server answered 503"
    assert failures(answer) == ["TransientModelError"]


def test_a_non_transient_error_is_not_hidden_by_fallback(ds: Docsage) -> None:
    from docsage.errors import ModelError

    use(ds, ScriptedChatModel([ModelError("401 bad key")]))
    _routing(ds, fallback_model="extractive")
    with pytest.raises(ModelError, match="bad key"):
        ds.ask("how do I set max_retries?", collection="c", model="fake:scripted")


def test_a_hedge_next_to_a_supported_sentence_keeps_the_supported_part(ds: Docsage) -> None:
    use(ds, ScriptedChatModel([f"{ABSTAIN_TEXT} {GOOD}"]))
    answer = ds.ask("how do I set max_retries?", collection="c", model="fake:scripted")
    assert not answer.abstained and answer.text.startswith("Set max_retries")
    assert "cover" not in answer.text


def test_a_stream_never_splits_a_code_block_with_blank_lines() -> None:
    passages = {1: "client = Client(max_retries=5)\n\nclient.run(job)"}
    text = (
        "Use it like this [1]:\n\n```python\nclient = Client(max_retries=5)\n\nclient.run(job)\n```"
    )
    out: list[str] = []
    stream = VerifiedStream(passages, out.append)
    for char in text:
        stream.feed(char)
    final = stream.close()
    assert "".join(out) == final.text and final.text.endswith("client.run(job)\n```\n[1]")
    assert all(s.supported for s in final.verification.sentences[1:])


def test_a_stream_reads_fences_as_the_verifier_does() -> None:
    """A ``~~~`` line inside a backtick fence is code, not a fence: the stream must not cut
    at the blank line after it (it did when it counted fence lines of either kind)."""
    passages = {1: "x = 1\n\ny = 2 ~~~"}
    text = "Use it like this [1]:\n\n```\n~~~\nx = 1\n\ny = 2\n```"
    out: list[str] = []
    stream = VerifiedStream(passages, out.append)
    for char in text:
        stream.feed(char)
    final = stream.close()
    assert "".join(out) == final.text and final.text.endswith("y = 2\n```\n[1]")
