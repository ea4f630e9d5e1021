"""Framed documents: crawled pages that are parts of other pages (iframe/frame includes).

A page reached only through ``<iframe src>`` / ``<frame src>`` (never as an ``<a>``/``<area>``
target, never a start URL) is a piece of the pages that embed it — a header, a footer, a
frameset's body — not a page of its own. Read from the snapshot's links; knows no rules.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.snapshot import Link, Page, SiteSnapshot

FRAME_TAGS = frozenset({"iframe", "frame"})
LINK_TAGS = frozenset({"a", "area"})


@dataclass
class Frames:
    """Who embeds whom. URLs are as the crawler wrote the links (absolute, normalised)."""

    parents: dict[str, list[str]] = field(default_factory=dict)  # framed doc → embedding pages
    children: dict[str, list[str]] = field(default_factory=dict)  # page → its framed docs

    def is_framed(self, page: Page | str) -> bool:
        """True when the page (or URL) is a framed document, not a page of its own."""
        if isinstance(page, str):
            return page in self.parents
        return page.url in self.parents or page.final_url in self.parents

    def frames_of(self, page: Page | str) -> list[str]:
        """The framed documents a page embeds (directly), in link order."""
        if isinstance(page, str):
            return self.children.get(page, [])
        return self.children.get(page.final_url) or self.children.get(page.url) or []

    def top_parents(self, url: str) -> list[str]:
        """The pages of their own a framed document finally belongs to (through nested frames)."""
        out: list[str] = []
        seen = {url}
        todo = list(self.parents.get(url, []))
        while todo:
            parent = todo.pop(0)
            if parent in seen:
                continue
            seen.add(parent)
            if parent in self.parents:
                todo.extend(self.parents[parent])
            else:
                out.append(parent)
        return out


def find_frames(links: Iterable[Link], start_urls: Iterable[str] = ()) -> Frames:
    """Frames from a stream of links (one pass; memory grows with frame links only).

    A target counts as framed when some page embeds it with iframe/frame and no page
    links to it with a/area, and it is not a start URL.
    """
    embedded: dict[str, dict[str, None]] = {}  # target → ordered set of embedding pages
    linked: set[int] = set()  # hashes of a/area targets: small, and the stream is large
    for link in links:
        if link.tag in FRAME_TAGS and link.internal:
            if link.source != link.target:
                embedded.setdefault(link.target, {})[link.source] = None
        elif link.tag in LINK_TAGS:
            linked.add(hash(link.target))
    starts = set(start_urls)
    frames = Frames()
    for target, sources in embedded.items():
        if hash(target) in linked or target in starts or not sources:
            continue
        frames.parents[target] = list(sources)
        for source in sources:
            frames.children.setdefault(source, []).append(target)
    return frames


_CACHE: weakref.WeakKeyDictionary[object, Frames] = weakref.WeakKeyDictionary()


def frames(snapshot: SiteSnapshot) -> Frames:
    """The snapshot's frames, computed once per snapshot object (shared by all plugins)."""
    try:
        cached = _CACHE.get(snapshot)
    except TypeError:  # an object that cannot be weakly referenced: no cache
        cached = None
    if cached is not None:
        return cached
    result = find_frames(snapshot.links(), snapshot.run.start_urls)
    try:
        _CACHE[snapshot] = result
    except TypeError:
        pass
    return result


def framed_documents(snapshot: SiteSnapshot) -> dict[str, list[str]]:
    """Framed document URL → the URLs of the pages that embed it (cached per snapshot).

    Plugins skip these as pages (``url in framed_documents(snapshot)``) and read their text
    and links as part of their parents'.
    """
    return frames(snapshot).parents
