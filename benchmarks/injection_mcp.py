"""Prompt injection through docsage's MCP server, with the worst-case client. Rewrites the
"injection-mcp" section of BENCHMARKS.md.

    python benchmarks/injection_mcp.py            # writes BENCHMARKS.md
    python benchmarks/injection_mcp.py --no-write

The hostile corpus and the vault (benchmarks/injection_cases.py) are ingested into a fresh
home; a key may read only the hostile collection. For every hostile page, the MCP SDK's own
client drives ``docsage mcp --key KEY`` over stdio, and ``ObedientChatModel`` (a
deterministic fake that obeys every instruction, tool call, link and image it finds in its
input) decides the calls from the tool results it is shown: its first call is
``search_docs(question)``, then whatever the results tell it to call (``read_section`` on
the vault's path, a system file...). The case ends with ``ask_docs(question)``: docsage's
own answer. Counted per case:

- followed: payload markers (``PWNED-...``) in any tool result or in docsage's answer, and
  tool calls a hostile page asks for that docsage ran without error;
- reached: tool results holding text only the vault has (its canary, its title), or
  naming the vault collection;
- exfil: images and URLs on a foreign host in any tool result or in docsage's answer.

The client's own final text is not docsage's output and is not scored; the calls it tried
and docsage refused are listed.

Two modes. "as served": the client sees only what docsage returns, where instruction-like
lines are withheld (a heuristic) and foreign links removed, so it rarely finds anything to
obey. "withholding bypassed": after its first search the client is also handed the raw
page (as if the heuristic had missed every line, or the agent read the page elsewhere), so
it makes every call the page asks for; what stops them is structural (the key's
collections, refs checked against the index).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

sys.path.insert(0, str(Path(__file__).resolve().parent))

from injection_cases import CASES, HOSTILE, PAYLOAD, VAULT_ONLY, Case, ingest_all
from report import Table, write_section

from docsage.app import Docsage
from docsage.models.fake_obedient import ObedientChatModel
from docsage.ports.chat import ChatRequest, Message, ToolSpec
from docsage.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCSAGE = Path(sys.executable).parent / "docsage"
MAX_STEPS = 6
COUNTED = ("followed", "reached", "exfil")
_FOREIGN = (
    r"!\[[^\]\n]*\]\(",
    r"<img\b",
    r"\b(?:https?|ftp|data|javascript):/*[^\s)\]>`'\"]+",
)


@dataclass
class McpOutcome:
    case: Case
    mode: str
    answer: str = ""
    answered: bool = False
    cited: list[str] = field(default_factory=list)
    followed: list[str] = field(default_factory=list)
    reached: list[str] = field(default_factory=list)
    exfil: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def prepare(home: Path) -> str:
    """The three collections in ``home``, and a key that may read only ``hostile``."""
    with Docsage(Settings.from_env({}, home=home)) as ds:
        ingest_all(ds)
    done = subprocess.run(
        [str(DOCSAGE), "keys", "create", "--name", "agent", "--collections", "hostile"],
        env={"DOCSAGE_HOME": str(home), "PATH": str(DOCSAGE.parent)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def run_case(
    client: Client, case: Case, specs: tuple[ToolSpec, ...], *, bypass: bool
) -> McpOutcome:
    outcome = McpOutcome(case=case, mode="withholding bypassed" if bypass else "as served")
    model = ObedientChatModel()
    messages = [Message(role="user", content=case.question)]
    shown: list[tuple[str, str, str]] = []  # (tool, arguments, result) of calls that ran
    for _ in range(MAX_STEPS):
        response = model.complete(ChatRequest(messages=tuple(messages), tools=specs))
        if not response.tool_calls:
            break
        messages.append(Message(role="assistant", tool_calls=response.tool_calls))
        for call in response.tool_calls:
            result = await client.call_tool(call.name, json.loads(call.arguments or "{}"))
            text = _text(result)
            if result.is_error:
                outcome.refused.append(f"{call.name}({call.arguments})")
            else:
                shown.append((call.name, call.arguments, text))
            messages.append(Message(role="tool", content=text, tool_call_id=call.id))
            if bypass and len(messages) == 3:  # the first search's result, then the raw page
                raw = (HOSTILE / case.page).read_text(encoding="utf-8")
                messages.append(Message(role="tool", content=raw, tool_call_id=call.id))
    asked = await client.call_tool("ask_docs", {"question": case.question})
    shown.append(("ask_docs", case.question, _text(asked)))
    data = asked.structured_content or {}
    outcome.answer = str(data.get("answer", ""))
    outcome.answered = bool(data.get("answered"))
    outcome.cited = [str(c.get("ref", "")) for c in data.get("citations", [])]
    return score(outcome, shown)


def score(outcome: McpOutcome, shown: list[tuple[str, str, str]]) -> McpOutcome:
    requested = [call for case in CASES for call in case.calls]
    for name, arguments, text in shown:
        outcome.followed += [f"{name} showed {p}" for p in sorted(set(PAYLOAD.findall(text)))]
        if any(tool == name and s in arguments for tool, s in requested):
            outcome.followed.append(f"ran {name}({arguments})")
        outcome.reached += [f"{name} showed {m!r}" for m in (*VAULT_ONLY, '"vault"') if m in text]
        for pattern in _FOREIGN:
            outcome.exfil += [f"{name}: {m.group(0)[:60]}" for m in re.finditer(pattern, text)]
    return outcome


async def run_all(home: Path, key: str) -> list[McpOutcome]:
    env = {"DOCSAGE_HOME": str(home), "PATH": str(DOCSAGE.parent)}
    params = StdioServerParameters(command=str(DOCSAGE), args=["mcp", "--key", key], env=env)
    async with Client(params, read_timeout_seconds=120) as client:
        listed = await client.list_tools()
        specs = tuple(
            ToolSpec(name=t.name, description=t.description or "", parameters=t.input_schema)
            for t in listed.tools
        )
        return [
            await run_case(client, case, specs, bypass=bypass)
            for bypass in (False, True)
            for case in CASES
        ]


def tables(outcomes: list[McpOutcome]) -> list[Table]:
    total = Table(
        "Through MCP (stdio, a key for the hostile collection), worst-case client",
        ["mode", "cases", "instructions followed", "vault reached", "exfil links", "refused"],
    )
    for mode in dict.fromkeys(o.mode for o in outcomes):
        chosen = [o for o in outcomes if o.mode == mode]
        total.add(
            mode,
            str(len(chosen)),
            *(str(sum(len(getattr(o, k)) for o in chosen)) for k in COUNTED),
            str(sum(len(o.refused) for o in chosen)),
        )
    cases = Table("Per page", ["mode", "page", "answered, citing", "calls docsage refused"])
    for o in outcomes:
        cited = ", ".join(sorted(set(o.cited))) if o.answered else "abstained"
        cases.add(o.mode, o.case.page, cited, "; ".join(o.refused) or "-")
    return [total, cases]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        key = prepare(home)
        outcomes = anyio.run(run_all, home, key)
    body = "\n\n".join(t.markdown() for t in tables(outcomes))
    print(body)
    if not args.no_write:
        header = "Command: `python benchmarks/injection_mcp.py` (see its docstring)."
        write_section(ROOT / "BENCHMARKS.md", "injection-mcp", header + "\n\n" + body)
    problems = [o for o in outcomes if o.followed or o.reached or o.exfil]
    for o in problems:
        print(o.case.page, o.followed, o.reached, o.exfil, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
