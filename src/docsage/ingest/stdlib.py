"""A real corpus that needs no download: the running interpreter's standard-library docs.

``write_stdlib_docs`` renders the pydoc topics (the language reference pages that ``help()``
shows) and the docstrings of commonly used modules as a small static site shaped like a
Sphinx build, so the ordinary HTML parser turns each function, class and method into an API
section anchored at its qualified name (``json.dumps``, ``str.partition``). index.html links
every page. Names mentioned in docstrings are deliberately not turned into links: the few
mentions docstrings make (``exec``, ``str.format``) would give those entries a strong in-link
prior over everything else (``json.loads`` has none). Output is deterministic, and a stamp in
index.html makes a second call with the same interpreter and module list a no-op.
"""

from __future__ import annotations

import html
import importlib
import inspect
import itertools
import re
import shutil
import sys
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from docsage.text import paragraphs

# Builtins first: len/sorted/open and the methods of str, list and dict are what most
# questions are about. The rest is tuned so the whole corpus embeds in about a minute.
DEFAULT_MODULES: tuple[str, ...] = (
    "builtins",
    "os",
    "os.path",
    "sys",
    "re",
    "json",
    "collections",
    "itertools",
    "functools",
    "pathlib",
    "datetime",
    "subprocess",
    "shutil",
    "logging",
    "argparse",
    "csv",
    "math",
    "random",
    "string",
    "typing",
    "dataclasses",
    "contextlib",
    "hashlib",
    "tempfile",
    "urllib.parse",
    "time",
    "heapq",
    "bisect",
    "textwrap",
    "sqlite3",
    "zipfile",
    "glob",
    "enum",
    "copy",
    "base64",
    "uuid",
)

# Modules whose members are implemented in another public-looking module (``os.stat`` lives
# in ``posix``); such members belong here rather than being skipped as re-exports.
_IMPLEMENTED_IN = {"os": ("posix", "nt"), "os.path": ("genericpath", "posixpath", "ntpath")}
# Builtin types whose methods are documented; bytearray, memoryview and frozenset mostly
# repeat bytes and set, and would add some 120 chunks.
_BUILTIN_METHODS: frozenset[type] = frozenset({str, bytes, list, tuple, dict, set, int, float})
_MARKER = "docsage-stdlib"
_FORMAT = 2  # bump when the generated HTML changes, so existing corpora are rewritten
_SIGNATURE_MAX = 300
# reST inline literals and roles in docstrings (``s``, :func:`loads`), shown as code.
_LITERAL = re.compile(r"``(.+?)``|(?::[\w:]+:)?`([^`]+)`")
_UNDERLINES = {"*": 1, "=": 2, "-": 3, "~": 4}


@dataclass(frozen=True, kw_only=True, slots=True)
class StdlibCorpus:
    """Where the site was written, how many pages it has, and which Python it documents."""

    folder: Path
    pages: int
    python: str


@dataclass(frozen=True, kw_only=True, slots=True)
class _Entry:
    name: str  # qualified name, also the HTML anchor
    kind: str  # function | class | exception | method (Sphinx's py object types)
    signature: str
    doc: str
    members: tuple[_Entry, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class _Page:
    module: str
    summary: str
    doc: str
    entries: tuple[_Entry, ...]


def python_version() -> str:
    return ".".join(map(str, sys.version_info[:3]))


def write_stdlib_docs(dest: Path, modules: Sequence[str] = DEFAULT_MODULES) -> StdlibCorpus:
    """Write (or reuse) the site under ``dest``: index.html, topics/*.html, library/*.html."""
    from pydoc_data.topics import topics

    version = python_version()
    # The stamp lives in index.html, written last, so an interrupted run is redone and no
    # extra file shows up as "unsupported" in the ingest report.
    stamp = f"<!-- {_MARKER} v{_FORMAT} python {version} modules {' '.join(modules)} -->"
    index = dest / "index.html"
    if index.is_file() and stamp in index.read_text(encoding="utf-8"):
        return StdlibCorpus(folder=dest, pages=_count_pages(dest), python=version)
    pages = [_module_page(importlib.import_module(name), name) for name in modules]
    for sub in ("topics", "library"):
        shutil.rmtree(dest / sub, ignore_errors=True)
        (dest / sub).mkdir(parents=True)
    for name in sorted(topics):
        _write(dest / "topics" / f"{name}.html", _topic_html(name, topics[name]))
    for page in pages:
        _write(dest / "library" / f"{page.module}.html", _module_html(page, version))
    modules_html = _index_html(sorted(topics), [p.module for p in pages], version)
    _write(index, f"{modules_html}{stamp}\n")
    return StdlibCorpus(folder=dest, pages=_count_pages(dest), python=version)


def _count_pages(dest: Path) -> int:
    return sum(1 for _ in dest.rglob("*.html"))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# -- collecting entries with inspect ------------------------------------------------------


def _module_page(module: ModuleType, name: str) -> _Page:
    doc = inspect.cleandoc(module.__doc__ or "")
    summary = _first_sentence(doc.partition("\n\n")[0])
    prefix = "" if name == "builtins" else f"{name}."
    entries = [_entry(prefix + attr, obj, name) for attr, obj in _public_members(module, name)]
    # An undocumented entry (csv.Error) says nothing its name doesn't, yet could be cited.
    entries = [e for e in entries if e.doc or e.members]
    return _Page(module=name, summary=summary, doc=doc, entries=tuple(entries))


def _first_sentence(paragraph: str) -> str:
    """For the page heading: "json — JSON (JavaScript Object Notation) is a subset of"
    cut at a line end reads badly, so take the paragraph up to its first full stop."""
    flat = " ".join(paragraph.split())
    match = re.match(r"(.{10,200}?[.:])(\s|$)", flat)
    return match.group(1) if match else flat[:200]


def _public_members(module: ModuleType, name: str) -> Iterator[tuple[str, object]]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    homes = {name, module.__name__, *_IMPLEMENTED_IN.get(name, ())}
    for attr in sorted(set(names)):
        obj = getattr(module, attr, None)
        if attr.startswith("_") or not (inspect.isroutine(obj) or inspect.isclass(obj)):
            continue
        if _is_reexport(getattr(obj, "__module__", None), homes):
            continue
        yield attr, obj


def _is_reexport(owner: object, homes: set[str]) -> bool:
    """Defined in another public module, so documented there: ``typing`` re-exports
    ``collections.abc`` classes. A package's own submodules (``json.decoder``) count as home."""
    if not isinstance(owner, str) or any(owner == h or owner.startswith(f"{h}.") for h in homes):
        return False
    return not any(part.startswith("_") for part in owner.split("."))


def _entry(qualname: str, obj: object, module: str) -> _Entry:
    short = qualname.rpartition(".")[2]
    if not inspect.isclass(obj):
        return _Entry(
            name=qualname, kind="function", signature=_signature(obj, short), doc=_doc(obj)
        )
    methods = _methods(obj) if module != "builtins" or obj in _BUILTIN_METHODS else iter(())
    members = tuple(
        _Entry(
            name=f"{qualname}.{attr}",
            kind="method",
            signature=_signature(member, attr, method=True),
            doc=_doc(member),
        )
        for attr, member in methods
        if _doc(member)
    )
    kind = "exception" if issubclass(obj, BaseException) else "class"
    return _Entry(
        name=qualname,
        kind=kind,
        signature=_signature(obj, short),
        doc=_doc(obj),
        members=members,
    )


def _methods(cls: type) -> Iterator[tuple[str, object]]:
    """Public methods defined by the class or its private bases (``ArgumentParser`` gets
    ``add_argument`` from ``_ActionsContainer``); public bases document their own."""
    seen: set[str] = set()
    for base in cls.__mro__:
        if base is object or (base is not cls and not base.__name__.startswith("_")):
            continue
        for attr in sorted(vars(base)):
            if attr.startswith("_") or attr in seen:
                continue
            seen.add(attr)
            member = getattr(cls, attr, None)
            if inspect.isroutine(member):
                yield attr, member


def _doc(obj: object) -> str:
    # Not inspect.getdoc: it falls back to the base class's docstring, which repeats
    # BaseException's text under every exception class.
    raw = getattr(obj, "__doc__", None)
    return inspect.cleandoc(raw) if isinstance(raw, str) else ""


def _signature(obj: object, name: str, *, method: bool = False) -> str:
    try:
        params = str(inspect.signature(obj))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _doc_signature(obj, name)
    if method:
        params = re.sub(r"^\((?:self|cls)(?:, /)?(?:, |(?=\)))", "(", params)
    # Default values that are objects print with their address, which changes every run.
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "...", f"{name}{params}")
    return text if len(text) <= _SIGNATURE_MAX else f"{name}(...)"


def _doc_signature(obj: object, name: str) -> str:
    """Builtins without a text signature often start their docstring with one."""
    first = _doc(obj).partition("\n")[0].strip()
    # Method docstrings spell the receiver as a letter: "S.count(sub[, start[, end]]) -> int".
    first = re.sub(r"^[A-Za-z]\.", "", first)
    if first.startswith(f"{name}(") and len(first) <= _SIGNATURE_MAX:
        return first
    is_exception = isinstance(obj, type) and issubclass(obj, BaseException)
    return name if is_exception else f"{name}(...)"


# -- rendering ----------------------------------------------------------------------------


def _page_html(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        f'<body>\n<div role="main">\n{body}</div>\n</body>\n</html>\n'
    )


def _inline(text: str) -> str:
    """Escaped prose with reST literals as ``<code>``: cleaner text to embed and match."""
    escaped = html.escape(text, quote=False)
    return _LITERAL.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>", escaped)


def _hanging(para: str) -> bool:
    """Flush first line, every other line indented: code whose first line lost its indent
    to ``inspect.cleandoc`` (csv.reader's ``csv_reader = reader(...)`` example)."""
    rest = para.split("\n")[1:]
    return bool(rest) and all(line.startswith((" ", "\t")) for line in rest)


def _paragraphs(text: str) -> str:
    """Docstring paragraphs: indented or doctest blocks are code, the rest prose."""
    out = []
    for para in paragraphs(text.strip(), any_whitespace=True):
        if not para.strip():
            continue
        if para.startswith((" ", "\t", ">>>")) or _hanging(para):
            out.append(f"<pre>{html.escape(para.rstrip())}</pre>")
        else:
            out.append(f"<p>{_inline(para)}</p>")
    return "\n".join(out)


def _dl(entry: _Entry) -> str:
    members = "\n".join(_dl(m) for m in entry.members)
    anchor = html.escape(entry.name)
    signature = html.escape(entry.signature)
    # The dt shows the qualified name, as Sphinx does ("json.dumps(obj, ...)").
    qualified = entry.name.rpartition(".")[0]
    shown = f"{html.escape(qualified)}.{signature}" if qualified else signature
    return (
        f'<dl class="py {entry.kind}">\n<dt id="{anchor}">{shown}</dt>\n'
        f"<dd>\n{_paragraphs(entry.doc)}\n{members}\n</dd>\n</dl>"
    )


def _module_html(page: _Page, version: str) -> str:
    heading = f"{page.module} — {page.summary}" if page.summary else page.module
    body = "\n".join(_dl(entry) for entry in page.entries)
    section = (
        f'<section id="module-{html.escape(page.module)}">\n<h1>{html.escape(heading)}</h1>\n'
        f"<p>Python {version} standard library, generated from docstrings.</p>\n"
        f"{_paragraphs(page.doc)}\n{body}\n</section>\n"
    )
    return _page_html(f"{page.module} — Python {version}", section)


def _topic_html(name: str, text: str) -> str:
    blocks = list(_topic_blocks(text))
    title = next((b for b in _topic_titles(text)), name)
    body = f'<section id="topic-{html.escape(name)}">\n' + "\n".join(blocks) + "\n</section>\n"
    return _page_html(title, body)


def _topic_titles(text: str) -> Iterator[str]:
    lines = text.split("\n")
    for line, under in itertools.pairwise(lines):
        if _underline_level(line, under):
            yield line.strip()


def _underline_level(line: str, under: str) -> int:
    if not line.strip() or len(under) != len(line) or len(set(under)) != 1:
        return 0
    return _UNDERLINES.get(under[0], 0)


def _topic_blocks(text: str) -> Iterator[str]:
    """pydoc's plain-text rendering of the reference, back to headings, prose and code.

    Code is a doctest, an indented block under prose ending in ":", or one following other
    code; indented prose (method descriptions) stays prose.
    """
    prose_indent, after_colon, in_code = 0, False, False
    for para in paragraphs(text.strip("\n"), any_whitespace=True):
        lines = para.split("\n")
        if len(lines) == 2 and (level := _underline_level(lines[0], lines[1])):
            yield f"<h{level}>{html.escape(lines[0].strip())}</h{level}>"
            prose_indent, after_colon, in_code = 0, False, False
            continue
        indent = len(para) - len(para.lstrip())
        doctest = para.lstrip().startswith(">>>")
        if doctest or (indent > prose_indent and (after_colon or in_code)):
            in_code = True
            yield f"<pre>{html.escape(textwrap.dedent(para))}</pre>"
            continue
        prose_indent, after_colon, in_code = indent, para.rstrip().endswith(":"), False
        yield f"<p>{html.escape(para.strip(), quote=False)}</p>"


def _index_html(topics: list[str], modules: list[str], version: str) -> str:
    items = "\n".join(
        f'<li><a href="{href}">{html.escape(label)}</a></li>'
        for href, label in [(f"library/{m}.html", m) for m in modules]
        + [(f"topics/{t}.html", t) for t in topics]
    )
    body = (
        f'<section id="index">\n<h1>Python {version} documentation (from pydoc)</h1>\n'
        f"<p>Library modules, then language reference topics.</p>\n<ul>\n{items}\n</ul>\n"
        "</section>\n"
    )
    return _page_html(f"Python {version} documentation", body)
