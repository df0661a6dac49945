"""``response_format`` for the chat endpoint: JSON answers, and a client's JSON schema.

docsage answers JSON in one shape, whatever the model: ``{"answer", "abstained",
"citations": [{"number", "ref", "quote"}]}``, with the answer text verified sentence by
sentence like a prose answer. A client's ``json_schema`` is honoured by checking it against
that shape before any work is done (an answer and an abstention, as samples): a schema
docsage's answers satisfy (all of it, a subset of its fields, extra optional fields) is
accepted and every reply is validated against it; one they cannot satisfy is refused with
400 and the reason. Letting the model fill arbitrary fields would skip verification, so
docsage does not.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from docsage.api.models import AskResponse
from docsage.api.openai_params import OpenAIRequestError

PARAM = "response_format.json_schema"
_SAMPLES: tuple[dict[str, Any], ...] = (
    {
        "answer": "Set max_retries to 5 [1].",
        "abstained": False,
        "citations": [{"number": 1, "ref": "guide.md#retries", "quote": "Set max_retries"}],
    },
    {"answer": "Not found in the docs.", "abstained": True, "citations": []},
)


def answer_json(answer: AskResponse) -> dict[str, Any]:
    cited = [{"number": c.number, "ref": c.ref, "quote": c.quote} for c in answer.citations]
    return {"answer": answer.answer, "abstained": answer.abstained, "citations": cited}


def client_schema(spec: object) -> Draft202012Validator:
    """A validator for the client's ``json_schema`` spec ({"name", "schema", "strict"}),
    or OpenAIRequestError saying why docsage cannot answer in it."""
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise OpenAIRequestError(
            "give response_format.json_schema as {'name': ..., 'schema': {...}}",
            PARAM,
            "invalid_value",
        )
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise OpenAIRequestError("json_schema.schema must be an object", PARAM, "invalid_value")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise OpenAIRequestError(
            f"json_schema.schema is not a valid JSON schema: {exc.message}", PARAM, "invalid_value"
        ) from exc
    validator = Draft202012Validator(schema)
    for sample in _SAMPLES:
        error = next(iter(validator.iter_errors(sample)), None)
        if error is not None:
            raise OpenAIRequestError(
                "docsage answers JSON shaped like "
                f"{json.dumps(sample)}, which this schema rejects ({error.message}); accept "
                "that shape, or a subset of its fields",
                PARAM,
                "unsupported_schema",
            )
    return validator


def fitted(answer: AskResponse, validator: Draft202012Validator | None) -> str:
    """The answer as JSON text, checked against the client's schema when there is one."""
    obj = answer_json(answer)
    if validator is not None:
        error = next(iter(validator.iter_errors(obj)), None)
        if error is not None:  # e.g. a maxLength the real answer is over
            raise OpenAIRequestError(
                f"this answer does not fit the requested schema: {error.message}",
                PARAM,
                "schema_mismatch",
            )
    return json.dumps(obj)
