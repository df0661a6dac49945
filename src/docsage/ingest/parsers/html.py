"""HTML, with Sphinx builds in mind, via selectolax's Lexbor parser.

Page chrome is removed first, then the main content is walked once in document order:
headings open sections (anchored at their own or their ``<section>``'s id), and Sphinx object
descriptions (``<dl class="py function">`` and friends) become ``api`` sections of their own,
anchored at the ``dt`` id. HTML has no useful line numbers, so blocks carry none.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from docsage.errors import ParseError
from docsage.ingest.parsers._common import Heading, HeadingStack, Slugger, make_section, squash
from docsage.types import Block, BlockKind, Section

_NOISE = (
    "script, style, noscript, template, nav, header, footer, div.sphinxsidebar, div.related,"
    " div.footer, a.headerlink"
)
_MARKED_ROOTS = ("div[role=main]", "main", "article")
_ROOTS = (*_MARKED_ROOTS, "div.body", "body")
_BLOCKS = frozenset({"div", "ul", "ol", "dl", "table", "p", "section", "aside", "form"})
NAV_MIN_LINKS = 3
NAV_LINK_SHARE = 0.7
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_INLINE = frozenset(
    {
        "-text",
        "a",
        "span",
        "code",
        "em",
        "strong",
        "b",
        "i",
        "abbr",
        "kbd",
        "sub",
        "sup",
        "small",
        "cite",
        "q",
        "var",
        "samp",
        "mark",
        "s",
        "u",
        "br",
        "time",
        "label",
        "tt",
        "wbr",
    }
)
_DOMAINS = frozenset({"py", "c", "cpp", "js", "std", "rst"})


MAX_NESTING = 256
"""Deeper element trees are refused: the walk below recurses once or twice per level, and a
generated page thousands of levels deep would otherwise die of a RecursionError."""


def _nesting(root: LexborNode) -> int:
    """How deep the element tree goes, counted without recursion; stops past MAX_NESTING."""
    deepest, stack = 0, [(root, 0)]
    while stack and deepest <= MAX_NESTING:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter())
    return deepest


def parse(text: str) -> list[Section]:
    """Sections of an HTML page: one per heading and one per API description."""
    if not text.strip():
        return []
    try:
        tree = LexborHTMLParser(text)
    except Exception as error:  # Lexbor recovers from almost anything; this is the rest
        raise ParseError(f"HTML could not be parsed: {error}") from error
    title_node = tree.css_first("title")
    for node in tree.css(_NOISE):
        node.decompose()
    root = next((n for n in map(tree.css_first, _ROOTS) if n is not None), tree.root)
    if root is None:
        return []
    if not any(tree.css_first(selector) for selector in _MARKED_ROOTS):
        drop_link_lists(root)
    if _nesting(root) > MAX_NESTING:
        raise ParseError(
            f"nesting too deep: HTML elements nested more than {MAX_NESTING} levels deep "
            "(generated markup?); flatten the page to ingest it"
        )
    return _Walker(squash(title_node.text()) if title_node else "").run(root)


def drop_link_lists(root: LexborNode) -> None:
    """Remove blocks that are mostly links: navigation bars, breadcrumbs, "previous | next",
    tables of contents. Applied where the page does not mark its content region (no
    ``role=main``, ``<main>`` or ``<article>``), so the theme's navigation is inside what is
    walked and would become a chunk on every page (687 identical ones on a Django build).

    A block with at least ``NAV_MIN_LINKS`` links whose text is at least ``NAV_LINK_SHARE``
    link text is navigation: the link-density signal of boilerplate detection (Kohlschuetter,
    Fankhauser and Nejdl, "Boilerplate detection using shallow text features", WSDM 2010).
    Prose that cites a few links keeps most of its words outside them. A block with a heading
    is a section of the page ("SEE ALSO" in a man page): only its link lists go."""
    stack = list(root.iter())
    while stack:
        node = stack.pop()
        if node.tag in _BLOCKS and _is_link_list(node):
            node.decompose()
        else:
            stack.extend(node.iter())


def _is_link_list(node: LexborNode) -> bool:
    links = node.css("a")
    if len(links) < NAV_MIN_LINKS or node.css_first("h1, h2, h3, h4, h5, h6") is not None:
        return False
    total = len(squash(node.text()))
    linked = sum(len(squash(a.text())) for a in links)
    return total > 0 and linked >= NAV_LINK_SHARE * total


class _Walker:
    """One pass over the content; ``sink`` is where blocks go (a section, or an API entry)."""

    def __init__(self, page_title: str) -> None:
        self.sections: list[Section | None] = []
        self.stack = HeadingStack()
        self.slugger = Slugger()
        self.title, self.anchor = page_title, ""
        self.path: tuple[str, ...] = ()
        self.blocks: list[Block] = []
        self.section_id = ""  # id of the <section> whose heading has not been seen yet
        self.alias = ""  # id of an empty label element waiting for the next API entry

    def run(self, root: LexborNode) -> list[Section]:
        self.slot = self._reserve()
        self._walk(root, self.blocks, ())
        self._close()
        return [s for s in self.sections if s is not None]

    def _reserve(self) -> int:
        """Keep a section's place so it precedes the API entries found inside it."""
        self.sections.append(None)
        return len(self.sections) - 1

    def _close(self) -> None:
        if self.blocks or self.anchor:  # the page title alone, before any heading, says nothing
            self.sections[self.slot] = make_section(
                title=self.title, anchor=self.anchor, heading_path=self.path, blocks=self.blocks
            )
        self.blocks = []

    def _walk(self, node: LexborNode, sink: list[Block], api_path: tuple[str, ...]) -> None:
        inline: list[str] = []
        for child in node.iter(include_text=True):
            if child.tag in _INLINE and not _is_label(child):
                inline.append(child.text(deep=True, separator="", strip=False))
                continue
            _flush(inline, sink)
            if _is_label(child):
                self.alias = str(child.id)
                continue
            sink = self._element(child, sink, api_path)
            self.alias = "" if child.tag != "dl" else self.alias
        _flush(inline, sink)

    def _element(
        self, node: LexborNode, sink: list[Block], api_path: tuple[str, ...]
    ) -> list[Block]:
        """Handle one block-level element; returns the sink later siblings write to."""
        tag = node.tag or ""
        if tag in _HEADINGS and not api_path:
            self._heading(node)
            return self.blocks
        if tag == "dl":
            self._dl(node, sink, api_path)
        elif tag in ("p", "pre", "table", "ul", "ol") or tag in _HEADINGS:
            _add(sink, node)
        elif tag is not None and not tag.startswith("-"):
            if tag == "section" or (tag == "div" and "section" in _classes(node)):
                self.section_id = node.id or ""
            self._walk(node, sink, api_path)
            return self.blocks if not api_path else sink
        return sink

    def _heading(self, node: LexborNode) -> None:
        self._close()
        self.slot = self._reserve()
        self.title = squash(node.text(deep=True, separator=""))
        slug = self.slugger.slug(self.title)
        self.anchor = self.section_id or node.id or slug
        self.section_id = ""
        self.path = self.stack.push(Heading(int((node.tag or "h6")[1]), self.title, self.anchor))

    def _dl(self, node: LexborNode, sink: list[Block], api_path: tuple[str, ...]) -> None:
        terms = [c for c in node.iter() if c.tag == "dt"]
        if _classes(node) & _DOMAINS and terms:
            self._api(terms, [c for c in node.iter() if c.tag == "dd"], api_path)
        elif any(t.id for t in terms) or _wrapper_id(node):
            self._entries(node, sink, api_path)
        else:
            sink.append(Block(text=_definitions(node), kind="list"))

    def _api(
        self, terms: list[LexborNode], descs: list[LexborNode], api_path: tuple[str, ...]
    ) -> None:
        title = _signature(terms[0])
        anchor = next((str(t.id) for t in terms if t.id), "") or self.alias or self.anchor
        self.alias = ""
        path = (*(api_path or self.path), title)
        slot = self._reserve()
        blocks = [Block(text="\n".join(_signature(t) for t in terms[1:]), kind="code")]
        for desc in descs:
            self._walk(desc, blocks, path)
        self.sections[slot] = make_section(
            title=title, anchor=anchor, heading_path=path, blocks=blocks, kind="api"
        )

    def _entries(self, node: LexborNode, sink: list[Block], api_path: tuple[str, ...]) -> None:
        """A plain ``dl`` with identified terms (a glossary, an FAQ): every term is an entry
        of its own, titled with the term (an FAQ's question). Asciidoc puts an ``[[anchor]]``
        on the list's wrapper: its first term takes it; a term without an id is anchored at
        the enclosing section. No term's description is dropped."""
        wrapper = _wrapper_id(node)
        for child in node.iter():
            if child.tag == "dt":
                self.alias, wrapper = ("" if child.id else wrapper), ""
                self._api([child], _descriptions(child), api_path)


def _wrapper_id(node: LexborNode) -> str:
    """The id of a ``div`` that wraps only this list (asciidoc's ``<div class="dlist" id>``)."""
    parent = node.parent
    if parent is None or parent.tag != "div" or not parent.id:
        return ""
    children = [c for c in parent.iter() if c.tag != "-text"]
    return str(parent.id) if children == [node] else ""


def _descriptions(term: LexborNode) -> list[LexborNode]:
    """The ``dd`` siblings that follow ``term``, up to the next ``dt``."""
    descs: list[LexborNode] = []
    sibling = term.next
    while sibling is not None and sibling.tag != "dt":
        if sibling.tag == "dd":
            descs.append(sibling)
        sibling = sibling.next
    return descs


def _is_label(node: LexborNode) -> bool:
    """An empty element that only carries an id: a Sphinx label such as ``func-list``."""
    return node.tag in ("span", "a") and bool(node.id) and not node.text(deep=True).strip()


def _classes(node: LexborNode) -> set[str]:
    return set((node.attributes.get("class") or "").split())


def _signature(term: LexborNode) -> str:
    return squash(term.text(deep=True, separator="").replace("¶", ""))


def _flush(inline: list[str], sink: list[Block]) -> None:
    text = squash("".join(inline))
    if text:
        sink.append(Block(text=text))
    inline.clear()


def _add(sink: list[Block], node: LexborNode) -> None:
    tag = node.tag or ""
    if tag == "pre":
        text, kind = node.text(deep=True, separator="", strip=False).strip("\n"), "code"
    elif tag == "table":
        text, kind = _table(node), "table"
    elif tag in ("ul", "ol"):
        text, kind = _items(node), "list"
    else:
        text, kind = squash(node.text(deep=True, separator="")), "prose"
    if text.strip():
        sink.append(Block(text=text, kind=_kind(kind)))


def _kind(kind: str) -> BlockKind:
    return (
        "code"
        if kind == "code"
        else "table"
        if kind == "table"
        else "list"
        if kind == "list"
        else "prose"
    )


def _table(node: LexborNode) -> str:
    rows = []
    for row in node.css("tr"):
        cells = [
            squash(c.text(deep=True, separator=" ")) for c in row.iter() if c.tag in ("th", "td")
        ]
        rows.append(" | ".join(cells))
    return "\n".join(r for r in rows if r.strip(" |"))


def _items(node: LexborNode) -> str:
    items = [squash(c.text(deep=True, separator="")) for c in node.iter() if c.tag == "li"]
    return "\n".join(f"- {item}" for item in items if item)


def _definitions(node: LexborNode) -> str:
    lines = []
    for child in node.iter():
        text = squash(child.text(deep=True, separator=""))
        if child.tag == "dt":
            lines.append(f"- {text}")
        elif child.tag == "dd" and lines:
            lines[-1] += f": {text}"
    return "\n".join(lines)
