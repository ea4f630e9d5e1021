"""Run one crawl: Scrapy in this process (once per process: the reactor cannot restart)."""

from __future__ import annotations

import gc
import importlib.util
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import __version__
from core.config import Config
from core.dns import Resolver
from reports.store import Store

log = logging.getLogger(__name__)


def _base_downloader_middlewares() -> dict[str, int]:
    from scrapy.settings import default_settings

    return dict(default_settings.DOWNLOADER_MIDDLEWARES_BASE)


_BASE_DOWNLOADER_MIDDLEWARES = _base_downloader_middlewares()


@dataclass
class CrawlStats:
    pages: int = 0
    links_checked: int = 0
    homepage_ok: bool = False
    homepage_error: str = ""
    links: int = 0  # link rows stored (every link on every page)
    errors: int = 0  # checks whose outcome is not ok
    rendered: int = 0  # pages rendered in Chromium
    seconds: float = 0.0
    homepage_url: str = ""  # the homepage's final URL (after redirects)


def user_agent(config: Config) -> str:
    contact = config.crawl.contact.strip()
    return f"govaudit/{__version__}" + (f" (+{contact})" if contact else "")


def render_middleware() -> str | None:
    """The Chromium rendering middleware's path, when crawler/render.py is installed."""
    try:
        if importlib.util.find_spec("crawler.render") is None:
            return None
        import crawler.render as render

        return "crawler.render.RenderMiddleware" if hasattr(render, "RenderMiddleware") else None
    except Exception as exc:  # a broken optional module must not stop crawling
        log.warning("JavaScript rendering unavailable: %s", exc)
        return None


def _quiet_scrapy(record: logging.LogRecord) -> bool:
    """Root-handler filter: Scrapy's and Twisted's chatter only with -v."""
    if record.name.startswith(("scrapy", "twisted")):
        return record.levelno >= logging.CRITICAL
    if record.name == "py.warnings" and "scrapy" in record.getMessage():
        return False
    return True


def scrapy_settings(config: Config, resolver: Resolver | None) -> dict[str, Any]:
    from crawler.resolve import resolver_class

    c = config.crawl
    settings: dict[str, Any] = {
        "BOT_NAME": "govaudit",
        "USER_AGENT": user_agent(config),
        "ROBOTSTXT_OBEY": c.obey_robots,
        "CONCURRENT_REQUESTS": c.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c.concurrency_per_host,
        "DOWNLOAD_DELAY": c.download_delay,
        "AUTOTHROTTLE_ENABLED": c.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(0.05, c.download_delay),
        "AUTOTHROTTLE_MAX_DELAY": max(10.0, c.download_delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(c.concurrency_per_host),
        "DOWNLOAD_TIMEOUT": c.timeout,
        # An expired, self-signed or wrong-host certificate is a tls_error, as a browser
        # refuses it (Scrapy's default accepts any certificate).
        "DOWNLOAD_VERIFY_CERTIFICATES": c.verify_tls,
        "DNS_TIMEOUT": min(c.timeout, 10),
        "RETRY_ENABLED": c.retries > 0,
        "RETRY_TIMES": c.retries,
        # Redirects are followed by the spider itself, so chains are recorded.
        "REDIRECT_ENABLED": False,
        "METAREFRESH_ENABLED": False,
        "DOWNLOAD_MAXSIZE": 0,  # the spider stops big downloads itself (StopDownload)
        "DOWNLOAD_WARNSIZE": 0,
        "COOKIES_ENABLED": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": True,
        "LOG_LEVEL": "ERROR",
        "LOG_INSTALL_ROOT_HANDLER": False,
        "MEMUSAGE_ENABLED": False,
        "STATS_DUMP": False,
        "LOGSTATS_INTERVAL": 0,
        "REACTOR_THREADPOOL_MAXSIZE": 8,
        # Callbacks return nothing (requests go to engine.crawl, rows to the store), and
        # Scrapy starts CONCURRENT_ITEMS cooperative tasks per response: keep it at 1.
        "CONCURRENT_ITEMS": 1,
        # The plain epoll reactor: the asyncio bridge costs ~2x CPU per page, and nothing
        # here needs asyncio (rendering runs Chromium in a thread).
        "TWISTED_REACTOR": "twisted.internet.epollreactor.EPollReactor",
        # Only the components a link checker needs: each one costs CPU on every request.
        "SPIDER_MIDDLEWARES": {
            # Long URLs are still links to check; the spider schedules everything itself
            # (engine.crawl), so depth, referer and length bookkeeping are not needed.
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
        },
        "DOWNLOADER_MIDDLEWARES_BASE": {
            k: v
            for k, v in _BASE_DOWNLOADER_MIDDLEWARES.items()
            if not k.endswith(
                (
                    "offsite.OffsiteMiddleware",
                    "httpauth.HttpAuthMiddleware",
                    "httpproxy.HttpProxyMiddleware",
                    "stats.DownloaderStats",
                    "httpcache.HttpCacheMiddleware",
                    "redirect.RedirectMiddleware",
                    "redirect.MetaRefreshMiddleware",
                )
            )
        },
        "EXTENSIONS": {
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.remote_control.RemoteControl": None,  # no listening port
            "scrapy.extensions.corestats.CoreStats": None,  # stats nobody reads, per response
        },
        "DOWNLOADER_MIDDLEWARES": {},
        # The spider schedules and deduplicates itself: two in-memory stacks suffice.
        "SCHEDULER": "crawler.scheduler.FrontierScheduler",
    }
    if resolver is not None:
        settings["TWISTED_DNS_RESOLVER"] = resolver_class(resolver)
    mw = render_middleware()
    if mw:
        settings["DOWNLOADER_MIDDLEWARES"][mw] = 950
    return settings


def run_crawl(
    config: Config,
    store: Store,
    run_id: int,
    resolver: Resolver | None = None,
    progress: Callable[[str], None] = lambda m: None,
) -> CrawlStats:
    """Crawl ``config.site.urls`` and stream pages, links and checks into ``store``."""
    from scrapy.crawler import CrawlerProcess

    from crawler.pipeline import SnapshotWriter
    from crawler.progress import CrawlCounters, ProgressReporter
    from crawler.spider import SiteSpider

    resolver = resolver or Resolver(config.dns, timeout=min(config.crawl.timeout, 10))
    settings = scrapy_settings(config, resolver)
    writer = SnapshotWriter(store, run_id)
    counters = CrawlCounters()
    reporter = ProgressReporter(counters, progress, config.crawl.max_pages)
    outcome: dict[str, Any] = {}
    started = time.monotonic()
    # Scrapy's own log is for developers (-v); the progress line is for users.
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    if quiet:
        settings["LOG_ENABLED"] = False
        settings["LOG_FORMATTER"] = "crawler.logformat.QuietLogFormatter"
    if quiet:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_quiet_scrapy)
    process = CrawlerProcess(settings)
    process.crawl(
        SiteSpider,
        config=config,
        writer=writer,
        outcome=outcome,
        progress=reporter,
        render_available="crawler.render.RenderMiddleware" in settings["DOWNLOADER_MIDDLEWARES"],
    )
    cpu_start = time.process_time()
    # A crawl allocates millions of short-lived objects: with CPython's default GC
    # thresholds the collector runs every 700 allocations and keeps rescanning the
    # long-lived imported modules. Freeze those, and collect young objects less often
    # (about 10% less CPU per page; memory stays within a few MB).
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
    try:
        process.start()
    finally:
        # The audits and reports that follow run with the usual collector, and what the
        # crawl left in reference cycles is freed now rather than held.
        gc.set_threshold(*thresholds)
        gc.unfreeze()
        gc.collect()
    writer.flush()
    seconds = time.monotonic() - started
    progress(
        f"crawl finished: {writer.pages_written} pages, {writer.checks_written} targets checked, "
        f"{writer.links_written} links in {seconds:.1f} s "
        f"({time.process_time() - cpu_start:.1f} CPU s)"
    )
    ok = bool(outcome.get("homepage_ok"))
    return CrawlStats(
        pages=writer.pages_written,
        links_checked=writer.checks_written,
        homepage_ok=ok,
        homepage_error="" if ok else outcome.get("homepage_error", "no answer"),
        links=writer.links_written,
        errors=counters.errors,
        rendered=counters.rendered,
        seconds=seconds,
        homepage_url=outcome.get("homepage_url", ""),
    )
