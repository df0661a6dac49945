"""Structured output: a reply as JSON validated by a pydantic model.

The schema goes to the server as a constraint where it has one (OpenAI ``json_schema``, the
llama.cpp server's grammar-constrained ``json_object``; see ``models/openai_chat.py``) and
into the instructions always. A reply that does not validate gets a bounded number of repair
turns (default one): the model sees its reply and the validation errors and answers again.
Past that, ``ModelError`` with the last errors; nothing is silently coerced.

``ask_structured`` is the grounded answer as JSON (:class:`AnswerJSON`, or any pydantic model
with an ``answer`` string): its ``answer`` text goes through the same per-sentence
verification as a prose answer, and the returned object carries the verified text.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from docsage.answer.confidence import question_confidence
from docsage.answer.extractive import abstention_text
from docsage.answer.generative import GenerativeAnswerer, ground, model_step, usage_of
from docsage.answer.prompt import pack
from docsage.answer.safety import LinkGuard, withheld_step
from docsage.answer.verify import verify
from docsage.errors import ModelError
from docsage.ports.chat import ChatModel, ChatRequest, ChatResponse, Message
from docsage.retrieve import SearchOptions
from docsage.text import unfence
from docsage.types import Answer, Hit

T = TypeVar("T", bound=BaseModel)


class AnswerJSON(BaseModel):
    """The grounded answer as JSON."""

    answer: str = Field(description="The answer; end every sentence with its source, like [1].")
    cited: list[int] = Field(default_factory=list, description="Source numbers used.")
    abstain: bool = Field(False, description="True when the sources do not answer it.")


def instructions(schema: dict[str, object]) -> str:
    return (
        "Reply with only one JSON object, no prose and no code fence, matching this JSON "
        f"schema:\n{json.dumps(schema)}"
    )


def parse(text: str, output: type[T]) -> T:
    """Validate ``text`` (optionally inside a ```json fence) as ``output``."""
    return output.model_validate_json(unfence(text))


def complete_json(
    model: ChatModel,
    messages: tuple[Message, ...],
    output: type[T],
    *,
    max_tokens: int = 512,
    repairs: int = 1,
) -> tuple[T, list[ChatResponse]]:
    """The validated object and every model response it took (1 + repairs used)."""
    schema = output.model_json_schema()
    turn = (*messages, Message(role="system", content=instructions(schema)))
    responses: list[ChatResponse] = []
    for _ in range(repairs + 1):
        request = ChatRequest(messages=turn, max_tokens=max_tokens, json_schema=schema)
        responses.append(model.complete(request))
        try:
            return parse(responses[-1].text, output), responses
        except ValidationError as exc:
            errors = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'reply'}: {e['msg']}" for e in exc.errors()[:5]
            )
            turn = (
                *turn,
                Message(role="assistant", content=responses[-1].text),
                Message(
                    role="user",
                    content=f"That reply is not valid: {errors}. "
                    "Reply again with only the corrected JSON object.",
                ),
            )
    raise ModelError(
        f"{model.name} gave no valid {output.__name__} JSON after {repairs} repair(s): {errors}"
    )


def ask_structured(
    answerer: GenerativeAnswerer,
    question: str,
    collection: str,
    *,
    path_prefix: str = "",
    output: type[T] = AnswerJSON,  # type: ignore[assignment]
) -> tuple[T, Answer]:
    """The verified answer as ``output`` (whose ``answer`` field is replaced by the
    verified text) and the full ``Answer`` with usage and verification."""
    options = SearchOptions(k=answerer.options.k, path_prefix=path_prefix)
    hits = answerer.retriever.search(question, collection, options).hits
    store = answerer.retriever.store
    conf = question_confidence(store, collection, question, hits, answerer.calibration)
    if not hits or conf < answerer.abstain_below:  # the same gate as the prose answer
        return _abstained(question, hits, conf, answerer, output)
    prompt = pack(
        question,
        hits,
        context_window=answerer.model.context_window,
        max_tokens=answerer.options.max_tokens,
        harden=answerer.options.harden,
        withhold=answerer.options.withhold,
    )
    obj, responses = complete_json(
        answerer.model, prompt.messages, output, max_tokens=answerer.options.max_tokens
    )
    sources = {s.number: s for s in prompt.sources}
    passages = {n: s.evidence for n, s in sources.items()}
    opts = answerer.options
    text = str(getattr(obj, "answer", ""))
    checked = verify(text, passages, threshold=opts.threshold, action=opts.action)
    grounded = ground(checked, sources, hits)
    guard = LinkGuard(answerer.retriever.store, collection, enabled=opts.harden)
    answer_text = guard.clean(grounded.text)  # only the answer text: other fields are the caller's
    usages = [usage_of(r, answerer.pricer) for r in responses]
    answer = Answer(
        question=question,
        text=answer_text,
        citations=grounded.citations,
        confidence=round(
            conf * checked.verification.supported / max(checked.verification.checked, 1), 4
        ),
        abstained=grounded.abstained,
        sources=tuple(hits[:5]),
        model=answerer.model.name,
        usage=tuple(usages),
        verification=checked.verification,
        trace=(
            *withheld_step(prompt.withheld),
            *(model_step(r, u) for r, u in zip(responses, usages, strict=True)),
            *guard.steps(),
        ),
    )
    known = type(obj).model_fields
    updates = {"answer": answer_text, "cited": list(checked.cited), "abstain": grounded.abstained}
    return obj.model_copy(update={k: v for k, v in updates.items() if k in known}), answer


def _abstained(
    question: str, hits: list[Hit], conf: float, answerer: GenerativeAnswerer, output: type[T]
) -> tuple[T, Answer]:
    """Retrieval found nothing good enough: abstain without calling the model."""
    text = abstention_text(conf, answerer.abstain_below, hits)
    answer = Answer(
        question=question,
        text=text,
        citations=(),
        confidence=round(conf, 4),
        abstained=True,
        sources=tuple(hits[:5]),
        model=answerer.model.name,
    )
    known = output.model_fields
    values: dict[str, Any] = {"answer": text, "cited": [], "abstain": True}
    return output.model_construct(**{k: v for k, v in values.items() if k in known}), answer
