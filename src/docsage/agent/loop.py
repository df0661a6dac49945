"""The agent loop: the model calls tools over the index until it answers, within a budget.

Bounds: ``max_steps`` model calls, ``max_tool_calls`` tool calls, and a token, cost and time
budget checked before every model call. The last allowed step offers no tools, so the model
must answer. A call identical to an earlier one (same tool, same arguments) is not run
again: the model is told so, and a second repeat ends tool use. A tool error goes back to
the model as the observation. The final text goes through the same verification as a
generative answer, against exactly the passages the tools showed, so it may cite only
sources seen during the run. Every model and tool call is a ``TraceStep``.

Tool results are untrusted data (``docsage.untrusted``): unless ``options.harden`` is off,
each observation goes to the model inside a fence with a boundary drawn for this run, which
the system prompt names as data, never instructions; the tools check their arguments
against the caller's collection and withhold instruction-like lines; and the final answer
loses its images and foreign links (``answer.safety.LinkGuard``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from docsage.agent.budget import Budget
from docsage.agent.tools import DEFAULT_TOOLS, Tool, ToolContext, ToolError
from docsage.answer.generative import (
    GenerationOptions,
    ground,
    model_step,
    observed_usage,
    usage_of,
)
from docsage.answer.prompt import ABSTAIN_TEXT, guarded_system
from docsage.answer.safety import LinkGuard, withheld_step
from docsage.answer.verify import VerifiedStream
from docsage.errors import DocsageError
from docsage.observe import model_call, tool_call
from docsage.ports.chat import (
    ChatModel,
    ChatRequest,
    ChatResponse,
    Message,
    OnToken,
    Pricer,
    ToolCall,
)
from docsage.retrieve import Retriever
from docsage.types import Answer, Timings, TraceStep, Usage
from docsage.untrusted import fence, new_boundary

SYSTEM = f"""You answer developers' questions about a software project by reading its \
docs with the tools. Search first, then open sections to read them in full.
Every passage a tool shows has a number like [3]. When you know the answer, reply with \
plain text and no tool call: end every sentence with the number of the passage that \
states it, like [3]. Cite only numbers the tools showed you. Copy names and code exactly.
If the docs do not answer the question, reply exactly: {ABSTAIN_TEXT}"""
FINAL_TURN = "Tool use is over. Answer now from the passages above, citing their numbers."
MAX_OBSERVATION_CHARS = 6000
__all__ = ["AgentAnswerer", "Budget"]


@dataclass
class _Run:
    started: float
    messages: list[Message]
    steps: list[TraceStep] = field(default_factory=list)
    tool_calls: int = 0
    tokens: int = 0
    cost: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    estimated: bool = False
    calls_seen: dict[str, int] = field(default_factory=dict)
    repeats: int = 0
    stop: str = ""
    boundary: str = ""
    """The fence boundary of this run's tool results; "" when not hardened."""


def over_budget(run: _Run, budget: Budget) -> str:
    """Why the run must stop before another model call, or ""."""
    if run.tokens >= budget.max_tokens:
        return f"token budget spent ({run.tokens} >= {budget.max_tokens})"
    if budget.max_cost_usd is not None and run.cost >= budget.max_cost_usd:
        return f"cost budget spent (${run.cost:.4f} >= ${budget.max_cost_usd:.4f})"
    elapsed = time.perf_counter() - run.started
    if elapsed >= budget.max_seconds:
        return f"time budget spent ({elapsed:.1f} s >= {budget.max_seconds:.1f} s)"
    return ""


class AgentAnswerer:
    def __init__(
        self,
        retriever: Retriever,
        model: ChatModel,
        *,
        pricer: Pricer,
        budget: Budget | None = None,
        options: GenerationOptions | None = None,
        tools: tuple[Tool, ...] = DEFAULT_TOOLS,
    ) -> None:
        self.retriever = retriever
        self.model = model
        self.pricer = pricer
        self.budget = budget or Budget()
        self.options = options or GenerationOptions()
        self.tools = {t.name: t for t in tools}

    def ask(
        self,
        question: str,
        collection: str,
        *,
        path_prefix: str = "",
        on_token: OnToken | None = None,
    ) -> Answer:
        ctx = ToolContext(
            store=self.retriever.store,
            retriever=self.retriever,
            collection=collection,
            path_prefix=path_prefix,
            harden=self.options.harden,
            withhold=self.options.withhold,
        )
        boundary = new_boundary() if self.options.harden else ""
        messages = [
            Message(role="system", content=guarded_system(SYSTEM, boundary)),
            Message(role="user", content=question),
        ]
        run = _Run(started=time.perf_counter(), messages=messages, boundary=boundary)
        final = self._loop(run, ctx)
        return self._finish(question, collection, run, ctx, final, on_token)

    def _loop(self, run: _Run, ctx: ToolContext) -> str | None:
        for step in range(self.budget.max_steps):
            run.stop = run.stop or over_budget(run, self.budget)
            if run.stop.startswith(("token", "cost", "time")):
                return None
            last_turn = bool(run.stop) or step == self.budget.max_steps - 1
            if last_turn and run.messages[-1].content != FINAL_TURN:
                run.messages.append(Message(role="user", content=FINAL_TURN))
            response = self._call(run, last_turn)
            if not response.tool_calls or last_turn:
                return response.text
            run.messages.append(
                Message(role="assistant", content=response.text, tool_calls=response.tool_calls)
            )
            for call in response.tool_calls:
                run.messages.append(
                    Message(role="tool", content=self._tool(run, ctx, call), tool_call_id=call.id)
                )
        run.stop = run.stop or f"step limit ({self.budget.max_steps}) reached"
        return None

    def _call(self, run: _Run, last_turn: bool) -> ChatResponse:
        tools = () if last_turn else tuple(t.spec for t in self.tools.values())
        request = ChatRequest(
            messages=tuple(run.messages), tools=tools, max_tokens=self.options.max_tokens
        )
        with model_call(self.model.name) as call:
            response = self.model.complete(request)
            call.set(observed_usage(response))
        usage = usage_of(response, self.pricer)
        run.input_tokens += usage.input_tokens
        run.output_tokens += usage.output_tokens
        run.tokens += usage.input_tokens + usage.output_tokens
        run.cost += usage.cost_usd
        run.estimated = run.estimated or usage.estimated
        run.steps.append(model_step(response, usage))
        return response

    def _tool(self, run: _Run, ctx: ToolContext, call: ToolCall) -> str:
        started = time.perf_counter()
        key = f"{call.name}:{_canonical(call.arguments)}"
        with tool_call(call.name) as traced:
            observation, error = self._observe(run, ctx, call, key)
            if error:
                traced.fail("tool_error", error)
        run.calls_seen.setdefault(key, len(run.steps))
        run.steps.append(
            TraceStep(
                kind="tool",
                name=call.name,
                detail=call.arguments[:300],
                result_chars=len(observation),
                ms=(time.perf_counter() - started) * 1000,
                error=error,
            )
        )
        observation = observation[:MAX_OBSERVATION_CHARS]
        if not run.boundary or error:  # an error is docsage's own text, not the docs'
            return observation
        return fence(observation, run.boundary, label=call.name)

    def _observe(self, run: _Run, ctx: ToolContext, call: ToolCall, key: str) -> tuple[str, str]:
        """(observation, error) for one call; errors become the observation."""
        if key in run.calls_seen:
            run.repeats += 1
            if run.repeats >= 2:
                run.stop = "repeated identical tool calls"
            return (
                f"error: you already called {call.name} with these arguments; its result "
                "is above. Try different arguments or answer.",
                "repeated call",
            )
        if run.tool_calls >= self.budget.max_tool_calls:
            run.stop = f"tool-call limit ({self.budget.max_tool_calls}) reached"
            return ("error: no tool calls left; answer from what you have.", "over tool limit")
        run.tool_calls += 1
        tool = self.tools.get(call.name)
        try:
            if tool is None:
                raise ToolError(f"no tool named {call.name!r}; tools: {', '.join(self.tools)}")
            return (tool(ctx, call.arguments), "")
        except DocsageError as exc:
            return (f"error: {exc}", str(exc))

    def _finish(
        self,
        question: str,
        collection: str,
        run: _Run,
        ctx: ToolContext,
        text: str | None,
        on_token: OnToken | None,
    ) -> Answer:
        passages = {n: s.evidence for n, s in ctx.sources.items()}
        guard = LinkGuard(ctx.store, collection, enabled=self.options.harden)
        stream = VerifiedStream(
            passages,
            guard.wrap(on_token or _drop),
            threshold=self.options.threshold,
            action=self.options.action,
        )
        stream.feed(text or "")
        grounded = ground(stream.close(), ctx.sources, ())
        answer_text = guard.clean(grounded.text)
        if text is None:
            answer_text = f"Not found in the docs: the agent stopped ({run.stop})."
        if (grounded.abstained or text is None) and on_token is not None:
            on_token(answer_text)
        share = grounded.verified.verification.supported / max(
            grounded.verified.verification.checked, 1
        )
        done = time.perf_counter()
        run.steps += [*withheld_step(ctx.withheld), *guard.steps()]
        if run.stop:
            run.steps.append(TraceStep(kind="stop", name="budget", detail=run.stop))
        first = (stream.first_emit - run.started) * 1000 if stream.first_emit else 0.0
        usage = Usage(
            model=self.model.name,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            cost_usd=run.cost,
            calls=sum(1 for s in run.steps if s.kind == "model"),
            estimated=run.estimated,
        )
        return Answer(
            question=question,
            text=answer_text,
            citations=grounded.citations,
            confidence=round(share if not grounded.abstained else 0.0, 4),
            abstained=grounded.abstained or text is None,
            timings=Timings(
                generate_ms=(done - run.started) * 1000,
                total_ms=(done - run.started) * 1000,
                first_token_ms=first,
            ),
            index_version=self.retriever.store.index_version(collection),
            model=f"agent:{self.model.name}",
            usage=(usage,),
            verification=grounded.verified.verification,
            trace=tuple(run.steps),
        )


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments or "{}"), sort_keys=True)
    except ValueError:
        return arguments.strip()


def _drop(text: str) -> None:
    return None
