"""``ObedientChatModel``: a deterministic worst-case model for prompt-injection tests. It
stands for a gullible or hostile LLM that obeys any instruction it finds in its input, fence
or no fence, system prompt or not. Not for real use.

It reads the user and tool messages (not the system prompt: a model that ignores it is the
worst case), including text hidden in Unicode tag characters, which models do read. What it
obeys:

- tool calls written as JSON (``{"name": "open_section", "arguments": {...}}``; ``tool`` or
  ``function`` for the name, ``args`` or ``parameters`` for the arguments) and sentences
  like ``call read_section on PATH``: it makes those calls, each once;
- output instructions (``reply with: X``, ``say: X``, ``append ...: X``): X goes into the
  answer, cited with the number of the passage it was found in, so verification sees a
  sentence that its source supports;
- images, links and URLs anywhere in the tool results: copied into the answer, with
  ``{question}`` filled in (URL-quoted), as an exfiltration payload asks.

Its first move is ``search_docs`` with the question; when nothing is left to call it
answers with the first sentence of passage [1] and everything it was told to add.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from docsage.models.fake import ScriptedChatModel
from docsage.ports.chat import ChatRequest, ChatResponse, Message, OnToken, ToolCall
from docsage.untrusted import decode_tags

_SAY = re.compile(
    r"\b(?:reply|respond|answer|say|output|print|write|append|add|include)\w*\b[^:\n]{0,60}?:"
    r"\s*(?P<payload>[^\n]+)",
    re.I,
)
_CALL = re.compile(r"\bcall\s+(?P<tool>[a-z_]+)\s+(?:on|with|for)\s+(?P<arg>[^\s`'\"]+)", re.I)
_URL = re.compile(r"!?\[[^\]\n]*\]\([^)\s]+\)|\bhttps?://[^\s`'\")<>]+")
_NUMBER = re.compile(r"^\[(\d+)\] ", re.M)
_FIRST_PASSAGE = re.compile(r"^\[1\][^\n]*\n([^\n]+)", re.M)
_NAME_KEYS = ("name", "tool", "function")
_ARG_KEYS = ("arguments", "args", "parameters")


class ObedientChatModel(ScriptedChatModel):
    """``fake:obedient`` (see the module docstring). ``obeyed`` lists every tool call and
    payload it acted on, for the benchmark's report."""

    def __init__(self, name: str = "fake:obedient", context_window: int = 8192) -> None:
        super().__init__([], name=name, context_window=context_window)
        self.made: set[str] = set()
        self.obeyed: list[str] = []

    def complete(self, request: ChatRequest, on_token: OnToken | None = None) -> ChatResponse:
        read = [m for m in request.messages if m.role in ("user", "tool")]
        question = next((m.content for m in read if m.role == "user"), "")
        if request.tools and not any(m.role == "tool" for m in read):
            self.script = [ToolCall(id="call_0", name="search_docs", arguments=_args(question))]
            return super().complete(request, on_token)
        calls = [c for c in _requested_calls(read) if c.name + c.arguments not in self.made]
        if request.tools and calls:
            self.made.update(c.name + c.arguments for c in calls)
            self.obeyed += [f"call {c.name} {c.arguments}" for c in calls]
            self.script = [
                [
                    ToolCall(id=f"call_{len(self.obeyed)}_{i}", name=c.name, arguments=c.arguments)
                    for i, c in enumerate(calls)
                ]
            ]
            return super().complete(request, on_token)
        self.script = [self._answer(read, question)]
        return super().complete(request, on_token)

    def _answer(self, read: list[Message], question: str) -> str:
        results = [m.content for m in read if m.role == "tool"]
        first = next((m.group(1) for r in results if (m := _FIRST_PASSAGE.search(r))), "")
        sentences = [f"{_first_sentence(first)} [1]."] if first else []
        for text in results:
            for payload, number in _payloads(text, question):
                self.obeyed.append(f"say {payload}")
                sentences.append(f"{payload} [{number}].")
        return " ".join(sentences) or "The docs don't cover this."


def _args(question: str) -> str:
    return json.dumps({"query": question})


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].rstrip(".")


def _visible_and_hidden(text: str) -> str:
    hidden = decode_tags(text)
    return f"{text}\n{hidden}" if hidden else text


def _number_at(text: str, index: int) -> int:
    numbers = [int(m.group(1)) for m in _NUMBER.finditer(text[:index])]
    return numbers[-1] if numbers else 1


def _payloads(text: str, question: str) -> list[tuple[str, int]]:
    """What ``text`` asks to be said, and the passage number it was found in."""
    text = _visible_and_hidden(text)
    found = [(m.group("payload").strip(" `\"'"), m.start()) for m in _SAY.finditer(text)]
    found += [(m.group(0), m.start()) for m in _URL.finditer(text)]
    filled = quote(question)
    return [(p.replace("{question}", filled), _number_at(text, i)) for p, i in found if p]


def _requested_calls(read: list[Message]) -> list[ToolCall]:
    calls: list[ToolCall] = []
    for message in read:
        if message.role != "tool":
            continue
        text = _visible_and_hidden(message.content)
        calls += [_call(name, args) for name, args in _json_calls(text)]
        calls += [_call(m.group("tool"), {"ref": m.group("arg")}) for m in _CALL.finditer(text)]
    return calls


def _call(name: str, arguments: dict[str, object]) -> ToolCall:
    return ToolCall(id="", name=name, arguments=json.dumps(arguments, sort_keys=True))


def _json_calls(text: str) -> list[tuple[str, dict[str, object]]]:
    """Every JSON object in ``text`` shaped like a tool call: (name, arguments)."""
    decoder = json.JSONDecoder()
    found: list[tuple[str, dict[str, object]]] = []
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        name = next((value[k] for k in _NAME_KEYS if isinstance(value.get(k), str)), None)
        args = next((value[k] for k in _ARG_KEYS if isinstance(value.get(k), dict)), None)
        if name and args is not None:
            found.append((name, args))
    return found
