"""A stored run read back as a site snapshot (pages, links, checks, texts), streamed from the store.

Implements core.snapshot.SiteSnapshot for the audits; knows nothing of how the rows got there.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine

from core.snapshot import Link, LinkCheck, LinkStatus, Page, RunInfo, StatusKind, TextPiece
from reports.schema import checks, links, pages, texts


class RunStore(Protocol):
    """What a snapshot needs of the store: its engine and the run directories."""

    engine: Engine

    def run_dir(self, run_id: int) -> Path: ...


def pack_html(html: str | None) -> bytes | None:
    return zlib.compress(html.encode("utf-8"), 3) if html is not None else None


def unpack_html(blob: bytes | None) -> str | None:
    return zlib.decompress(blob).decode("utf-8") if blob is not None else None


def run_info(row: Any) -> RunInfo:
    return RunInfo(
        id=row["id"],
        site=row["site"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        status=row["status"],
        pages_crawled=row["pages_crawled"] or 0,
        links_checked=row["links_checked"] or 0,
        config=row["config"] or {},
        plugins=row["plugins"] or [],
        errors=row["errors"] or [],
        start_urls=row["start_urls"] or [],
    )


def _page(row: Any, with_html: bool = True) -> Page:
    return Page(
        url=row["url"],
        final_url=row["final_url"],
        status_code=row["status_code"],
        content_type=row["content_type"] or "",
        encoding=row["encoding"] or "",
        title=row["title"] or "",
        depth=row["depth"] or 0,
        html=unpack_html(row["html_z"]) if with_html else None,
        size=row["size"] or 0,
        fetched_at=row["fetched_at"],
        rendered=bool(row["rendered"]),
        meta=row["meta"] or {},
    )


def _link(row: Any) -> Link:
    return Link(
        source=row["source"],
        target=row["target"],
        tag=row["tag"] or "",
        text=row["text"] or "",
        internal=bool(row["internal"]),
        raw=row["raw"] or "",
    )


def _check(row: Any) -> LinkCheck:
    return LinkCheck(
        url=row["url"],
        status=LinkStatus(StatusKind(row["kind"]), row["code"], row["detail"] or ""),
        final_url=row["final_url"],
        redirects=[(int(c), str(u)) for c, u in (row["redirects"] or [])],
        elapsed_ms=row["elapsed_ms"],
        content_type=row["content_type"],
        method=row["method"] or "GET",
        soft_404=bool(row["soft_404"]),
    )


def _text(row: Any) -> TextPiece:
    return TextPiece(
        url=row["url"],
        page_url=row["page_url"] or "",
        location=row["location"] or "",
        text=unpack_html(row["text_z"]) or "",
        format=row["format"] or "",
        status=row["status"] or "ok",
        detail=row["detail"] or "",
        spans=[(int(o), str(w)) for o, w in (row["spans"] or [])],
    )


class StoredSnapshot:
    """A :class:`core.snapshot.SiteSnapshot` read from the store, streamed."""

    def __init__(self, store: RunStore, run: RunInfo) -> None:
        self.store = store
        self.run = run
        self._check_cache: dict[str, LinkCheck | None] | None = None

    @property
    def homepage_url(self) -> str:
        start = self.run.start_urls[0] if self.run.start_urls else self.run.site
        page = self.page(start)
        return page.final_url if page else start

    def _stream(self, query: Any, batch: int = 200) -> Iterator[Any]:
        with self.store.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=batch).execute(query)
            yield from result.mappings()

    def pages(self, with_html: bool = True) -> Iterator[Page]:
        cols = [c for c in pages.columns if with_html or c.name != "html_z"]
        q = select(*cols).where(pages.c.run_id == self.run.id).order_by(pages.c.id)
        for row in self._stream(q):
            yield _page(row if with_html else {**row, "html_z": None}, with_html)

    def page(self, url: str) -> Page | None:
        q = (
            select(pages)
            .where(pages.c.run_id == self.run.id, (pages.c.url == url) | (pages.c.final_url == url))
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _page(row) if row else None

    def links(self) -> Iterator[Link]:
        q = select(links).where(links.c.run_id == self.run.id).order_by(links.c.id)
        for row in self._stream(q, 2000):
            yield _link(row)

    def links_from(self, page_url: str) -> list[Link]:
        q = (
            select(links)
            .where(links.c.run_id == self.run.id, links.c.source == page_url)
            .order_by(links.c.id)
        )
        with self.store.engine.connect() as conn:
            return [_link(r) for r in conn.execute(q).mappings()]

    def links_to(self, target: str) -> list[Link]:
        q = (
            select(links)
            .where(links.c.run_id == self.run.id, links.c.target == target)
            .order_by(links.c.id)
        )
        with self.store.engine.connect() as conn:
            return [_link(r) for r in conn.execute(q).mappings()]

    def check(self, url: str) -> LinkCheck | None:
        q = select(checks).where(checks.c.run_id == self.run.id, checks.c.url == url).limit(1)
        with self.store.engine.connect() as conn:
            row = conn.execute(q).mappings().first()
        return _check(row) if row else None

    def checks(self) -> Iterator[LinkCheck]:
        q = select(checks).where(checks.c.run_id == self.run.id).order_by(checks.c.id)
        for row in self._stream(q, 2000):
            yield _check(row)

    def texts(self) -> Iterator[TextPiece]:
        """Attachment text pieces (and the attachments that could not be read), in fetch order."""
        q = select(texts).where(texts.c.run_id == self.run.id).order_by(texts.c.id)
        for row in self._stream(q, 50):
            yield _text(row)

    def artifact_dir(self) -> str:
        return str(self.store.run_dir(self.run.id))
