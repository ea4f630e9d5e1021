"""What waits to be fetched, and the crawl's budgets: pages crawled, targets per run.

Discovered URLs wait in a compact deque of small tuples; only a bounded number of
requests are in flight. ``crawl.max_pages`` counts pages crawled (HTML fetched, parsed
and stored), not URLs queued: an internal link that turns out to be a 404 costs no page.
Page fetches in flight hold a slot of the budget; when the pages still missing are all
on their way (plus ``concurrency_per_host``, so one host stays busy), further page URLs
wait ("parked") until a fetch ends, and are checked like links once the budget is spent.

``crawl.max_targets`` caps the distinct targets queued in a run. What the caps cut, and
which pages were truncated or parsed in part, is kept in :attr:`Frontier.limits` (stored
as the run's CRAWL_LIMITS check row and read by the links audit).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

from crawler.progress import CrawlCounters

PAGE, CHECK, PROBE = "page", "check", "probe"
#: Pages listed by name in :attr:`Frontier.limits` per kind of cut (the counts are exact).
LIMITS_LISTED = 200


class Frontier:
    def __init__(
        self,
        counters: CrawlCounters,
        max_pages: int,
        max_targets: int,
        max_links_per_page: int,
        max_page_bytes: int,
        max_inflight: int,
        page_slack: int,
    ) -> None:
        self.counters = counters  # counters.pages: pages crawled so far
        self.max_pages = max_pages
        self.max_targets = max_targets
        self.max_inflight = max_inflight
        self.page_slack = page_slack
        self.queue: deque[tuple[str, int, str]] = deque()
        self.parked: deque[tuple[str, int]] = deque()  # pages waiting for budget
        self.inflight = 0  # request chains in flight
        self.pages_inflight = 0  # page fetches holding a slot of the page budget
        self.targets = 0  # distinct targets queued (the run cap counts these)
        self.limits: dict[str, Any] = {
            "max_links_per_page": max_links_per_page,
            "pages_capped": 0,
            "links_not_taken": 0,
            "capped": [],  # [page, links found, links kept]
            "max_targets": max_targets,
            "targets_not_checked": 0,
            "max_page_bytes": max_page_bytes,
            "pages_truncated": 0,
            "truncated": [],  # [page, reason, bytes received]
            "pages_partial": 0,
            "partial": [],  # [page, reason]
        }

    def __len__(self) -> int:
        """Targets waiting (queued or parked) or in flight."""
        return len(self.queue) + len(self.parked) + self.inflight

    def has_waiting(self) -> bool:
        return bool(self.queue or self.parked)

    def budget_left(self) -> bool:
        return self.counters.pages < self.max_pages

    # ---- queueing ------------------------------------------------------------------
    def add(self, url: str, depth: int, kind: str) -> bool:
        """Queue a new distinct target, unless the run's cap is reached (then count it)."""
        if self.targets >= self.max_targets:
            self.limits["targets_not_checked"] += 1
            return False
        self.targets += 1
        self.queue.append((url, depth, kind))
        return True

    def add_next(self, url: str, depth: int, kind: str) -> None:
        """Queue ``url`` to go out next (the soft-404 probe; not a target of the cap)."""
        self.queue.appendleft((url, depth, kind))

    def take(self) -> Iterator[tuple[str, int, str]]:
        """Targets to send now: (url, depth, kind); a PAGE takes a budget slot."""
        if self.parked and not self.budget_left():
            self.unpark_as_checks()
        while self.inflight < self.max_inflight:
            if self.parked and self._page_room():
                url, depth = self.parked.popleft()
                kind = PAGE
            elif self.queue:
                url, depth, kind = self.queue.popleft()
                if kind == PAGE:
                    if not self.budget_left():
                        kind = CHECK  # the budget is spent: check the page as a link
                    elif not self._page_room():
                        # Fetches in flight may still use the budget up, or end as 404s.
                        self.parked.append((url, depth))
                        continue
            else:
                break
            self.inflight += 1
            yield url, depth, kind

    def unpark_as_checks(self) -> None:
        """The page budget is spent (or nothing in flight can free it): check the rest."""
        self.queue.extend((url, depth, CHECK) for url, depth in self.parked)
        self.parked.clear()

    def _page_room(self) -> bool:
        return self.counters.pages + self.pages_inflight < self.max_pages + self.page_slack

    # ---- in flight -------------------------------------------------------------------
    def started(self) -> None:
        """A request chain started outside :meth:`take` (start URLs, the sitemap)."""
        self.inflight += 1

    def acquire_slot(self) -> None:
        self.pages_inflight += 1

    def release_slot(self, meta: dict[str, Any]) -> None:
        if meta.get("ga_slot"):
            meta["ga_slot"] = False
            self.pages_inflight -= 1

    def done(self, meta: dict[str, Any] | None = None) -> None:
        """A request chain ended (answered, failed or recorded): free its places."""
        self.inflight -= 1
        if meta is not None:
            self.release_slot(meta)

    # ---- what the limits cut -----------------------------------------------------------
    def note(self, what: str, row: list[Any], links_over: int = 0) -> None:
        """Count one page cut by a limit ("truncated", "partial", "capped"); list the first."""
        key = {"truncated": "pages_truncated", "partial": "pages_partial"}.get(what, "pages_capped")
        self.limits[key] += 1
        self.limits["links_not_taken"] += links_over
        if len(self.limits[what]) < LIMITS_LISTED:
            self.limits[what].append(row)
