"""Outgoing links of a document, resolved to ``source#anchor`` refs inside the ingested root.

In-link counts are a corpus-derived importance prior: in API docs the entries that the rest
of the docs keep referring to (``list``, ``str.join``, ``dict.items``) are the ones developers
most often need. Only links between documents of the same root are kept.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser

_MD_LINK = re.compile(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def html_hrefs(text: str) -> list[str]:
    tree = LexborHTMLParser(text)
    root = tree.css_first("div[role=main]") or tree.css_first("main") or tree.body
    if root is None:
        return []
    return [str(a.attributes.get("href") or "") for a in root.css("a[href]")]


def markdown_hrefs(text: str) -> list[str]:
    return _MD_LINK.findall(text)


HREF_EXTRACTORS: dict[str, Callable[[str], list[str]]] = {
    ".html": html_hrefs,
    ".htm": html_hrefs,
    ".md": markdown_hrefs,
    ".mdx": markdown_hrefs,
}


def resolve(source: str, href: str) -> str | None:
    """``href`` as seen from ``source``, as a root-relative ref; None if it leaves the root."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith("/"):
        return None
    path = unquote(parts.path)
    target = (
        source if not path else posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    )
    if target.startswith("../") or target == "..":
        return None
    return f"{target}#{parts.fragment}" if parts.fragment else target


def outgoing_links(source: str, text: str) -> list[str]:
    """Distinct resolved links of one document to other refs in the same root."""
    extractor = HREF_EXTRACTORS.get(PurePosixPath(source).suffix.lower())
    if extractor is None:
        return []
    resolved = (resolve(source, href) for href in extractor(text))
    return sorted({ref for ref in resolved if ref and ref.split("#")[0] != source})
