"""``ChatJudge``: the eval harness's ``GroundednessJudge`` hook backed by a chat model.

For each answer sentence the judge model sees the sentence and the passages it cites and
returns ``{"supported": true|false}`` as validated JSON (``complete_json``: the server's
JSON constraint where it has one, one repair turn where it does not). A reply that still
does not validate raises, so the case is counted as an error, never scored as a guess.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from docsage.answer.structured import complete_json
from docsage.ports.chat import ChatModel, Message

PROMPT = """Does the evidence state the claim? Answer true only if every fact in the claim \
is stated in the evidence; paraphrase is fine, additions are not.

Claim: {claim}

Evidence:
{evidence}"""


class Verdict(BaseModel):
    supported: bool


class ChatJudge:
    def __init__(self, model: ChatModel, *, max_tokens: int = 16) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0

    def supports(self, sentence: str, passages: Sequence[str]) -> bool:
        evidence = "\n\n".join(f"- {p}" for p in passages if p.strip()) or "(none)"
        ask = Message(role="user", content=PROMPT.format(claim=sentence, evidence=evidence))
        verdict, responses = complete_json(self.model, (ask,), Verdict, max_tokens=self.max_tokens)
        self.calls += len(responses)
        self.input_tokens += sum(r.input_tokens for r in responses)
        self.output_tokens += sum(r.output_tokens for r in responses)
        return verdict.supported
