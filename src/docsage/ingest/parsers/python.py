"""Python source via ``ast``: the module docstring, then each class, function and method."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from docsage.errors import ParseError
from docsage.ingest.parsers._common import make_section
from docsage.types import Block, Section, SectionKind

# Bodies longer than this are left out: a signature and docstring stand for them instead.
_MAX_BODY_LINES = 60

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def parse(text: str) -> list[Section]:
    """Sections for the module docstring, classes and functions (nested functions skipped)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as error:  # ValueError: source holds a NUL byte
        raise ParseError(f"not valid Python: {error}") from error
    sections = [_module(tree)]
    sections += list(_definitions(text.splitlines(), tree.body, ()))
    return [s for s in sections if s is not None]


def _module(tree: ast.Module) -> Section | None:
    doc = _docstring_block(tree)
    return make_section(
        title="", anchor="", heading_path=(), blocks=[doc] if doc else [], kind="module"
    )


def _definitions(
    lines: list[str], body: list[ast.stmt], scope: tuple[str, ...]
) -> Iterator[Section]:
    for node in body:
        if isinstance(node, ast.ClassDef):
            yield _class(node, scope)
            yield from _definitions(lines, node.body, (*scope, node.name))
        elif isinstance(node, FunctionNode):
            yield _function(lines, node, scope)


def _class(node: ast.ClassDef, scope: tuple[str, ...]) -> Section:
    bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
    title = f"class {node.name}({bases})" if bases else f"class {node.name}"
    blocks = [_code(title + ":", node.lineno, node.lineno)]
    doc = _docstring_block(node)
    if doc:
        blocks.append(doc)
    methods = [_signature(m) for m in node.body if isinstance(m, FunctionNode)]
    if methods:
        blocks.append(Block(text="\n".join(methods), kind="list"))
    return _section(title, (*scope, node.name), blocks, "class")


def _function(lines: list[str], node: FunctionNode, scope: tuple[str, ...]) -> Section:
    title = _signature(node)
    start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    end = node.end_lineno or node.lineno
    blocks = [_code(title, node.lineno, node.lineno)]
    doc = _docstring_block(node)
    if doc:
        blocks.append(doc)
    body = node.body[1:] if doc else node.body
    if body and end - start < _MAX_BODY_LINES:
        # The statements after the docstring: signature and docstring are blocks already.
        first = body[0].lineno
        source = "\n".join(lines[first - 1 : end])
        blocks.append(_code(source, first, end))
    return _section(title, (*scope, node.name), blocks, "function")


def _section(
    title: str, qualname: tuple[str, ...], blocks: list[Block], kind: SectionKind
) -> Section:
    return Section(
        title=title,
        anchor=".".join(qualname),
        heading_path=qualname,
        blocks=tuple(blocks),
        kind=kind,
    )


def _signature(node: FunctionNode) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}"


def _code(text: str, start: int, end: int) -> Block:
    return Block(text=text, kind="code", line_start=start, line_end=end)


def _docstring_block(node: ast.Module | ast.ClassDef | FunctionNode) -> Block | None:
    doc = ast.get_docstring(node)
    if not doc or not node.body:
        return None
    first = node.body[0]
    return Block(text=doc, line_start=first.lineno, line_end=first.end_lineno)
