"""Rules reviewers would otherwise repeat, as checks: the foundation stays stdlib-only, the
environment is read at the top, settings are documented, sizes. The import layers themselves
are import-linter's contracts in pyproject.toml, run by `make lint`."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from docsage.settings import describe

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "docsage"

# Modules that must stay stdlib-only (the foundation layer).
FOUNDATION = (
    "types.py",
    "errors.py",
    "text.py",
    "grounding.py",
    "deadline.py",
    "registry.py",
    "untrusted.py",
    "observe.py",
)
# Front ends and the composition root: the only modules that may read the environment.
COMPOSITION = ("app.py", "__init__.py", "cli/", "api/", "service/", "web/")


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


@pytest.mark.parametrize("name", FOUNDATION)
def test_foundation_modules_import_only_the_standard_library(name: str) -> None:
    third_party = {
        imp.split(".")[0]
        for imp in _imports(PACKAGE / name)
        if imp.split(".")[0] not in sys.stdlib_module_names and imp.split(".")[0] != "__future__"
    }
    assert third_party <= {"docsage"}, third_party
    internal = {imp for imp in _imports(PACKAGE / name) if imp.startswith("docsage.")}
    assert internal <= {"docsage.errors", "docsage.types", "docsage.text"}, internal


def test_nothing_below_the_composition_root_reads_the_environment() -> None:
    offenders = [
        _rel(p)
        for p in _modules()
        if not _rel(p).startswith((*COMPOSITION, "settings.py"))
        and ("os.environ" in p.read_text() or "getenv(" in p.read_text())
    ]
    assert offenders == []


def test_modules_stay_under_400_lines() -> None:
    long = {_rel(p): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env for env, _, _ in describe() if f"`{env}`" not in readme]
    assert missing == []


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci
    assert "make demo" in readme
