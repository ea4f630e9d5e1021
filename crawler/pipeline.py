"""Streams pages, links and link checks into the store in batches.

Rows are buffered and written in one transaction per batch, so memory stays flat as
the site grows and the crawl does not pay one SQLite commit per row. Page HTML is
held only until its batch is written (bounded by a byte budget).
"""

from __future__ import annotations

import time

from core.snapshot import Link, LinkCheck, Page
from reports.store import Store


class SnapshotWriter:
    def __init__(
        self,
        store: Store,
        run_id: int,
        batch: int = 500,
        max_html_bytes: int = 16_000_000,
        max_age: float = 3.0,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.batch = batch
        self.max_html_bytes = max_html_bytes
        self.max_age = max_age
        self._pages: list[Page] = []
        self._links: list[Link] = []
        self._checks: list[LinkCheck] = []
        self._html_bytes = 0
        self._last_flush = time.monotonic()
        self.pages_written = 0
        self.links_written = 0
        self.checks_written = 0

    def add_page(self, page: Page) -> None:
        self._pages.append(page)
        self._html_bytes += len(page.html or "")
        self._maybe_flush()

    def add_links(self, links: list[Link]) -> None:
        self._links.extend(links)
        self._maybe_flush()

    def add_check(self, check: LinkCheck) -> None:
        self._checks.append(check)
        self._maybe_flush()

    def _maybe_flush(self) -> None:
        if (
            len(self._pages) >= self.batch // 5
            or len(self._links) >= self.batch * 10
            or len(self._checks) >= self.batch
            or self._html_bytes >= self.max_html_bytes
            or time.monotonic() - self._last_flush > self.max_age
        ):
            self.flush()

    def flush(self) -> None:
        with self.store.batch():  # one commit for the whole batch
            if self._pages:
                self.store.add_pages(self.run_id, self._pages)
            if self._links:
                self.store.add_links(self.run_id, self._links)
            if self._checks:
                self.store.add_checks(self.run_id, self._checks)
        self.pages_written += len(self._pages)
        self.links_written += len(self._links)
        self.checks_written += len(self._checks)
        self._pages, self._links, self._checks = [], [], []
        self._html_bytes = 0
        self._last_flush = time.monotonic()
