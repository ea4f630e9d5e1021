"""Placeholder: the crawler helper replaces this module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from govaudit.config import Config
from govaudit.dns import Resolver
from reports.store import Store


@dataclass
class CrawlStats:
    pages: int = 0
    links_checked: int = 0
    homepage_ok: bool = False
    homepage_error: str = ""


def run_crawl(
    config: Config,
    store: Store,
    run_id: int,
    resolver: Resolver | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> CrawlStats:
    """Crawl ``config.site.urls`` and stream pages, links and checks into ``store``."""
    raise NotImplementedError
