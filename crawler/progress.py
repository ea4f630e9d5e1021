"""A periodic progress line while crawling: pages, queue, checks, errors, rate, ETA.

The ETA is the work still queued (targets waiting or in flight) divided by the rate at
which targets have been finished lately (pages crawled and links checked alike, over the
last minute or so): a page with thousands of links queues thousands of checks, which a
rate of pages per second says nothing about.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class CrawlCounters:
    pages: int = 0
    checks: int = 0  # targets finished (pages crawled and links checked)
    errors: int = 0  # checks whose outcome is not ok
    queued: int = 0  # targets waiting or in flight
    rendered: int = 0
    started: float = field(default_factory=time.monotonic)


class ProgressReporter:
    #: Seconds of history the rate is measured over.
    WINDOW = 60.0

    def __init__(
        self,
        counters: CrawlCounters,
        emit: Callable[[str], None],
        max_pages: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counters = counters
        self.emit = emit
        self.max_pages = max_pages
        self.clock = clock
        self._samples: deque[tuple[float, int]] = deque()  # (time, targets finished)

    def rate(self) -> float:
        """Targets finished per second over the last WINDOW seconds (or since the start)."""
        now = self.clock()
        done = self.counters.checks
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.WINDOW:
            self._samples.popleft()
        t0, d0 = self._samples[0]
        if len(self._samples) == 1 or now - t0 < 1e-6:
            t0, d0 = self.counters.started, 0
        elapsed = now - t0
        return (done - d0) / elapsed if elapsed > 1e-6 else 0.0

    def line(self) -> str:
        c = self.counters
        elapsed = max(self.clock() - c.started, 1e-6)
        page_rate = c.pages / elapsed
        rate = self.rate()
        eta = f", ETA ~{_duration(c.queued / rate)}" if rate > 0 and c.queued else ""
        return (
            f"crawl: {c.pages} pages, {c.queued} queued, {c.checks} links checked, "
            f"{c.errors} errors, {page_rate:.1f} pages/s, {rate:.1f} targets/s{eta}"
        )

    def tick(self) -> None:
        self.emit(self.line())


def _duration(seconds: float) -> str:
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}min"
    return f"{s // 3600}h{s % 3600 // 60:02d}min"
