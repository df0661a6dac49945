"""What docsage does with OpenAI's chat parameters: the ones it cannot honour are refused
with OpenAI's error shape (so a client learns at once instead of getting a silently
different answer), and ``max_tokens`` / ``stop`` cut the returned text as OpenAI would."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from docsage.errors import UsageError
from docsage.models.chat import CHARS_PER_TOKEN


class OpenAIRequestError(UsageError):
    """A 400 in OpenAI's shape: ``type: invalid_request_error`` with ``param`` and ``code``."""

    def __init__(self, message: str, param: str, code: str = "unsupported_parameter") -> None:
        super().__init__(message)
        self.param = param
        self.code = code


async def openai_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenAIRequestError)
    body = {
        "error": {
            "message": str(exc),
            "type": "invalid_request_error",
            "param": exc.param,
            "code": exc.code,
        }
    }
    return JSONResponse(body, status_code=400)


def refuse(param: str, why: str) -> OpenAIRequestError:
    return OpenAIRequestError(f"'{param}' is not supported by docsage: {why}", param)


@dataclass
class OutputLimit:
    """Applies ``stop`` and ``max_tokens`` to text that arrives in pieces. A tail that could
    be the start of a stop sequence is held back until the next piece settles it, so a stop
    sequence split across pieces is still caught and never sent."""

    stop: tuple[str, ...] = ()
    max_tokens: int | None = None
    finish_reason: str = "stop"
    _held: str = ""
    _sent_chars: int = 0
    _done: bool = field(default=False)

    @property
    def _max_chars(self) -> int | None:
        # The inverse of docsage.models.chat.estimate_tokens, so usage and the cut agree.
        return None if self.max_tokens is None else int(self.max_tokens * CHARS_PER_TOKEN)

    def feed(self, piece: str) -> str:
        if self._done:
            return ""
        text = self._held + piece
        self._held = ""
        cut = min((i for i in (text.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self._done = True
            return self._budget(text[:cut])
        keep = self._partial_stop(text)
        self._held = text[len(text) - keep :] if keep else ""
        return self._budget(text[: len(text) - keep])

    def close(self) -> str:
        held, self._held = self._held, ""
        return "" if self._done else self._budget(held)

    def _partial_stop(self, text: str) -> int:
        """Length of the longest tail of ``text`` that a stop sequence starts with."""
        return max(
            (n for s in self.stop for n in range(1, len(s)) if text.endswith(s[:n])), default=0
        )

    def _budget(self, text: str) -> str:
        limit = self._max_chars
        if limit is None:
            self._sent_chars += len(text)
            return text
        room = limit - self._sent_chars
        if len(text) > room:
            self._done, self.finish_reason = True, "length"
            text = text[: max(room, 0)]
        self._sent_chars += len(text)
        return text


def limit_text(text: str, stop: tuple[str, ...], max_tokens: int | None) -> tuple[str, str]:
    """The whole text cut by ``stop`` / ``max_tokens``, and OpenAI's finish_reason."""
    limit = OutputLimit(stop=stop, max_tokens=max_tokens)
    out = limit.feed(text) + limit.close()
    return out, limit.finish_reason
