"""The answer side of ``docsage.untrusted``: what a generated answer may link to.

A model that read hostile docs may put a remote image in its answer (the reader's client
fetches it, leaking whatever the URL carries, such as the question) or a link to a foreign
site. ``LinkGuard`` filters every piece of answer text before anyone sees it: streamed
pieces as they go out and the final text alike (``VerifiedStream`` emits whole paragraphs,
and no link spans a paragraph, so both see the same links). Links to the collection's own
sources stay; what was removed is counted and recorded as a ``safety`` trace step.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from docsage.ports import IndexReader
from docsage.ports.chat import OnToken
from docsage.types import TraceStep
from docsage.untrusted import Filtered, filter_links, own_link


class LinkGuard:
    """Filters answer text for one request; ``enabled=False`` passes text through (only
    for measuring what the filter does, as ``benchmarks/injection.py`` does)."""

    def __init__(
        self,
        store: IndexReader,
        collection: str,
        *,
        enabled: bool = True,
        allowed_hosts: Collection[str] = (),
    ) -> None:
        self.enabled = enabled
        self.allowed = own_link(set(store.documents(collection)), allowed_hosts)
        self.images = 0
        self.links = 0
        self.hosts: set[str] = set()

    def clean(self, text: str, *, count: bool = True) -> str:
        """``text`` without the images and foreign links (counted unless ``count`` is
        False: streamed pieces are counted once, in the final text)."""
        if not self.enabled:
            return text
        filtered: Filtered = filter_links(text, self.allowed)
        if not count:
            return filtered.text
        self.images += filtered.images
        self.links += filtered.links
        self.hosts.update(filtered.hosts)
        return filtered.text

    def wrap(self, on_token: OnToken) -> Callable[[str], None]:
        """``on_token`` that only ever receives cleaned text."""
        return lambda piece: on_token(self.clean(piece, count=False))

    def steps(self) -> tuple[TraceStep, ...]:
        """A ``safety`` trace step naming what was removed; none when nothing was."""
        if not self.images and not self.links:
            return ()
        detail = (
            f"removed {self.images} images, {self.links} links: {', '.join(sorted(self.hosts))}"
        )
        return (TraceStep(kind="safety", name="links", detail=detail[:300]),)


def withheld_step(count: int) -> tuple[TraceStep, ...]:
    """A ``safety`` trace step for instruction-like lines withheld from the model."""
    if not count:
        return ()
    detail = f"withheld {count} instruction-like lines of the docs from the model"
    return (TraceStep(kind="safety", name="withheld", detail=detail),)
