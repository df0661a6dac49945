"""Eval datasets: one JSON case per line, validated, with line-numbered errors.

    {"id": "q1", "question": "...", "gold_sources": ["guide/install.md", "api.html#f"],
     "reference_answer": "optional", "answerable": true, "tags": ["optional"]}

``gold_sources`` are ``path`` or ``path#anchor`` relative to the ingested root. An answerable
case needs at least one gold source (retrieval recall is undefined without one); an
unanswerable case is scored only on whether docsage abstained, so its gold is ignored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from docsage.errors import UsageError


class EvalCase(BaseModel):
    """One question with the sources that answer it (or ``answerable=False``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    gold_sources: tuple[str, ...] = ()
    reference_answer: str | None = None
    answerable: bool = True
    tags: tuple[str, ...] = ()

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value

    @model_validator(mode="after")
    def _gold_when_answerable(self) -> EvalCase:
        if self.answerable and not self.gold_sources:
            raise ValueError(
                "an answerable case needs at least one gold source; "
                'mark it "answerable": false if the docs cannot answer it'
            )
        return self


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "; ".join(parts)


def parse_line(line: str, where: str) -> EvalCase:
    """One case from one JSONL line; ``where`` (``file:line``) prefixes any error."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(raw).__name__}")
    try:
        return EvalCase.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(f"{where}: {_describe(exc)}") from exc


def unique_ids(cases: Sequence[EvalCase]) -> list[EvalCase]:
    """Cases with repeated ids renamed ``id~2``, ``id~3``... in file order.

    Runs are compared case by case through their ids, so ids must be unique; real datasets
    repeat them (conala-dev has two questions from one Stack Overflow post), and refusing
    such a file would be less useful than a deterministic rename.
    """
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        count = seen.get(case.id, 0) + 1
        seen[case.id] = count
        out.append(case if count == 1 else case.model_copy(update={"id": f"{case.id}~{count}"}))
    return out


def load_dataset(path: str | Path) -> list[EvalCase]:
    """All cases of a JSONL file; blank lines are skipped, any bad line is a UsageError."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the dataset {path}: {exc}") from exc
    cases = [
        parse_line(line, f"{path}:{number}") for number, line in enumerate(lines, 1) if line.strip()
    ]
    if not cases:
        raise UsageError(f"{path} holds no cases; write one JSON object per line")
    return unique_ids(cases)


def _case_json(case: EvalCase) -> str:
    body = case.model_dump(exclude_defaults=True)
    body["answerable"] = case.answerable  # always written: it decides how a case is scored
    return json.dumps(body, ensure_ascii=False)


def dump_dataset(cases: Iterable[EvalCase]) -> str:
    """JSONL text for cases, optional fields left out when empty."""
    return "".join(_case_json(case) + "\n" for case in cases)
