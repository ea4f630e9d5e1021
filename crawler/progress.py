"""A periodic progress line while crawling: pages, queue, checks, errors, rate, ETA."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CrawlCounters:
    pages: int = 0
    checks: int = 0
    errors: int = 0  # checks whose outcome is not ok
    queued: int = 0
    rendered: int = 0
    started: float = field(default_factory=time.monotonic)


class ProgressReporter:
    def __init__(
        self,
        counters: CrawlCounters,
        emit: Callable[[str], None],
        max_pages: int,
    ) -> None:
        self.counters = counters
        self.emit = emit
        self.max_pages = max_pages

    def line(self) -> str:
        c = self.counters
        elapsed = max(time.monotonic() - c.started, 1e-6)
        rate = c.pages / elapsed
        remaining = min(c.queued, max(self.max_pages - c.pages, 0)) if c.queued else 0
        eta = f", ETA ~{int(remaining / rate)}s" if rate > 0 and remaining else ""
        return (
            f"crawl: {c.pages} pages, {c.queued} queued, {c.checks} links checked, "
            f"{c.errors} errors, {rate:.1f} pages/s{eta}"
        )

    def tick(self) -> None:
        self.emit(self.line())
