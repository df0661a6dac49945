"""The MCP injection benchmark's verdict as a test: a worst-case client (it obeys every
instruction, tool call, link and image it is shown) driving the real ``docsage mcp`` over
stdio, with a key for the hostile collection only, gets no payload, no vault text and no
foreign link from docsage, whether it sees what docsage serves or is also handed the raw
hostile pages (then its calls are made, and refused)."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from injection_cases import CASES
from injection_mcp import McpOutcome, prepare, run_all

# Loads the ONNX embedding model and starts docsage mcp.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[McpOutcome]:
    home = tmp_path_factory.mktemp("injection-mcp-home")
    return anyio.run(run_all, home, prepare(home))


def test_docsage_serves_no_payload_no_vault_no_foreign_link(outcomes: list[McpOutcome]) -> None:
    assert len(outcomes) == 2 * len(CASES)
    problems = {
        (o.mode, o.case.page): (o.followed, o.reached, o.exfil)
        for o in outcomes
        if o.followed or o.reached or o.exfil
    }
    assert problems == {}


def test_the_attacks_were_made_and_refused(outcomes: list[McpOutcome]) -> None:
    bypassed = [o for o in outcomes if o.mode == "withholding bypassed"]
    refused = [call for o in bypassed for call in o.refused]
    assert any("read_section" in call and "passwd" in call for call in refused), refused
    assert any("vault" in call for call in refused), refused


def test_each_page_is_still_answered_from_itself(outcomes: list[McpOutcome]) -> None:
    for o in outcomes:
        assert o.answered, (o.mode, o.case.page)
        assert any(ref.startswith(o.case.page) for ref in o.cited), (o.case.page, o.cited)
