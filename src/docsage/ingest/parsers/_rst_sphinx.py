"""Lenient stand-ins for Sphinx's directives and roles so plain docutils can read Sphinx sources.

docutils keeps its directive and role registries in module globals, so registration is global
and idempotent: each name is registered once per process, the first time a source uses it.
Names docutils does not know and this module does not list are found by scanning the source
and get a generic handler (content parsed as body, role text kept), so no Sphinx extension
makes a page fail or lose its text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from docutils import nodes, utils
from docutils.parsers.rst import Directive, directives, roles
from docutils.parsers.rst.languages import en

from docsage.ingest.parsers.rst_labels import normalize, shown_target


# docutils ships no type hints, so its classes are Any to mypy: subclassing them is deliberate.
class api_entry(nodes.Element):  # type: ignore[misc]
    """A Sphinx object description: ``objtype``, ``domain``, ``signatures``, ``line``."""


class module_marker(nodes.Element):  # type: ignore[misc]
    """Where ``.. module::``/``.. currentmodule::`` switches the module (``modname``)."""


PY_OBJECTS = frozenset(
    {
        "function",
        "method",
        "class",
        "attribute",
        "data",
        "exception",
        "decorator",
        "decoratormethod",
        "classmethod",
        "staticmethod",
        "property",
        "abstractmethod",
        "coroutinefunction",
        "coroutinemethod",
        "awaitablefunction",
        "awaitablemethod",
        "type",
    }
)
OTHER_OBJECTS = frozenset(
    {
        "option",
        "cmdoption",
        "envvar",
        "describe",
        "object",
        "opcode",
        "pdbcommand",
        "2to3fixer",
        "confval",
    }
)
CODE = frozenset(
    {"code", "code-block", "sourcecode", "testcode", "testoutput", "doctest", "productionlist"}
)
DROPPED = frozenset(
    {
        "toctree",
        "index",
        "highlight",
        "literalinclude",
        "audit-event",
        "sectionauthor",
        "moduleauthor",
        "tabularcolumns",
        "testsetup",
        "testcleanup",
        "program",
        "default-domain",
        "default-role",
        "autosummary",
        "automodule",
        "autoclass",
        "autofunction",
        "include",
    }
)
VERSIONS = {
    "versionadded": "New in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
    "deprecated-removed": "Deprecated since version",
}
MODULES = frozenset({"module", "currentmodule", "py:module", "py:currentmodule"})

_DIRECTIVE = re.compile(r"^[ \t]*\.\.[ \t]+(\w[\w:+.-]*)[ \t]*::", re.MULTILINE)
_ROLE = re.compile(r"(?<![\w`]):(\w[\w:+.-]*):`")
_TITLED = re.compile(r"^(.+?)\s*<([^<>]+)>$", re.DOTALL)
_registered: set[str] = set()
_roles_registered: set[str] = set()


class _AnyOption(dict[str, Any]):
    """An option spec that accepts every option name (Sphinx directives have many)."""

    def __missing__(self, key: str) -> Any:
        return directives.unchanged

    def __bool__(self) -> bool:  # docutils only parses options when the spec is truthy
        return True


class _Lenient(Directive):  # type: ignore[misc]
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec: ClassVar[dict[str, Any]] = _AnyOption()

    def argument(self) -> str:
        return self.arguments[0] if self.arguments else ""

    def parse_into(self, node: nodes.Element) -> nodes.Element:
        self.state.nested_parse(self.content, self.content_offset, node)
        return node


class _Generic(_Lenient):
    """Unknown directive: keep its argument as a paragraph and its content as body."""

    def run(self) -> list[nodes.Node]:
        node = nodes.container()
        if self.argument():
            node += _paragraph(self, self.argument())
        return [self.parse_into(node)]


class _Dropped(_Lenient):
    def run(self) -> list[nodes.Node]:
        return []


class _Code(_Lenient):
    def run(self) -> list[nodes.Node]:
        text = "\n".join(self.content)
        block = nodes.literal_block(text, text)
        block.line = self.content_offset + 1
        return [block]


class _Version(_Lenient):
    """``versionadded`` and friends: "Changed in version 3.3: <content>"."""

    def run(self) -> list[nodes.Node]:
        version, *more = self.argument().split(None, 1)
        rest = more[0] if more else ""
        label = f"{VERSIONS[self.name.lower()]} {version}"
        node = self.parse_into(nodes.container())
        if rest.strip():
            node.insert(0, _paragraph(self, rest.strip()))
        first = node.children[0] if node.children else None
        if isinstance(first, nodes.paragraph):
            first.insert(0, nodes.Text(f"{label}: "))
        else:
            # The label is not in the source: point the paragraph at the directive's own line.
            marker = nodes.paragraph(self.block_text.splitlines()[0], f"{label}.")
            marker.line = self.lineno
            node.insert(0, marker)
        return [node]


class _Api(_Lenient):
    def run(self) -> list[nodes.Node]:
        domain, _, objtype = self.name.lower().rpartition(":")
        node = api_entry()
        node["domain"] = domain or ("py" if objtype in PY_OBJECTS else "std")
        node["objtype"] = objtype
        node["signatures"] = [s.strip() for s in self.argument().splitlines() if s.strip()]
        node["line"] = self.lineno
        return [self.parse_into(node)]


class _Module(_Lenient):
    def run(self) -> list[nodes.Node]:
        name = self.argument().strip()
        marker = module_marker()
        marker["modname"] = "" if name == "None" else name
        return [marker, *self.parse_into(nodes.container()).children]


def _paragraph(directive: Directive, text: str) -> nodes.paragraph:
    children, _ = directive.state.inline_text(text, directive.lineno)
    return nodes.paragraph(text, "", *children)


class label_ref(nodes.literal):  # type: ignore[misc]
    """``:ref:`label``` with no title of its own: Sphinx shows the labelled section's title,
    so the parser puts that title here once it has the document's labels (``label``)."""


def _xref(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: Any = None,
    content: Any = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """Any Sphinx role, shown as a reader of the built docs sees it: its title (``title
    <target>``), or its target as Sphinx displays it (``shown_target``)."""
    raw = utils.unescape(text)
    titled = _TITLED.match(raw)
    if titled:
        return [nodes.literal(rawtext, titled.group(1))], []
    if name.lower() in ("ref", "std:ref"):
        node = label_ref(rawtext, raw)
        node["label"] = raw
        return [node], []
    return [nodes.literal(rawtext, shown_target(raw))], []


def label_title(label: str, titles: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """A ``:ref:`` label's section title: from this document's ``titles``, else from the
    ingest's other reST files (``labels``, see ``rst_labels``), else the label in words
    ("dbengine_logging" -> "dbengine logging")."""
    key = normalize(label)
    return titles.get(key) or labels.get(key) or re.sub(r"[_-]+", " ", label).strip()


def _handler(name: str) -> type[Directive]:
    """Which stand-in a directive name gets; unknown names get the generic one."""
    domain, _, objtype = name.rpartition(":")
    if name in MODULES:
        return _Module
    if objtype in PY_OBJECTS or name in OTHER_OBJECTS or (domain and domain != "py"):
        return _Api
    if name in CODE:
        return _Code
    if name in DROPPED:
        return _Dropped
    return _Version if name in VERSIONS else _Generic


def register_for(source: str) -> None:
    """Make sure every directive and role ``source`` uses has a handler."""
    for name in {m.lower() for m in _DIRECTIVE.findall(source)} - _registered:
        _registered.add(name)
        if name in en.directives and _handler(name) is _Generic:
            continue  # docutils' own directive (note, image, table...) does this one better
        directives.register_directive(name, _handler(name))
    for name in {m.lower() for m in _ROLE.findall(source)} - _roles_registered:
        _roles_registered.add(name)
        if name not in en.roles:
            roles.register_canonical_role(name, _xref)
