"""Run one crawl: Scrapy in this process (once per process: the reactor cannot restart)."""

from __future__ import annotations

import gc
import importlib.util
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core import __version__
from core.config import Config
from core.dns import Resolver
from reports.store import Store

if TYPE_CHECKING:
    from crawler.guard import AddressPolicy

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
    limits: dict[str, Any] = field(default_factory=dict)  # what the crawl's limits cut
    interrupted: bool = False  # stopped by a signal (Ctrl-C, SIGTERM) before it finished


def limits_cut(limits: dict[str, Any]) -> bool:
    """True when a limit cut something (a page truncated, links or targets not checked)."""
    return any(
        limits.get(k)
        for k in ("pages_capped", "targets_not_checked", "pages_truncated", "pages_partial")
    )


def store_limits(store: Store, run_id: int, limits: dict[str, Any]) -> None:
    """The crawl limits' record: one check row the links audit reads (not a target)."""
    from core.snapshot import (
        CRAWL_LIMITS_METHOD,
        CRAWL_LIMITS_URL,
        LinkCheck,
        LinkStatus,
        StatusKind,
    )

    detail = json.dumps(limits, ensure_ascii=False)
    store.add_checks(
        run_id,
        [
            LinkCheck(
                url=CRAWL_LIMITS_URL,
                status=LinkStatus(StatusKind.SKIPPED, None, detail),
                method=CRAWL_LIMITS_METHOD,
            )
        ],
    )


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


def scrapy_settings(
    config: Config, resolver: Resolver | None, policy: AddressPolicy | None = None
) -> dict[str, Any]:
    """Scrapy's settings for a crawl; ``policy`` keeps it off internal addresses."""
    from crawler.guard import middleware_class
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
        # Compressed bodies are inflated up to a bound (crawler/bodies.py), not whole.
        "GOVAUDIT_MAX_DECOMPRESSED": max(c.max_page_bytes, 50_000_000),
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
                    "httpcompression.HttpCompressionMiddleware",
                )
            )
        },
        "EXTENSIONS": {
            "scrapy.extensions.logstats.LogStats": None,
            "scrapy.extensions.logcount.LogCount": None,
            "scrapy.extensions.remote_control.RemoteControl": None,  # no listening port
            "scrapy.extensions.corestats.CoreStats": None,  # stats nobody reads, per response
        },
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.bodies.BoundedDecompressionMiddleware": 590,
        },
        # The spider schedules and deduplicates itself: two in-memory stacks suffice.
        "SCHEDULER": "crawler.scheduler.FrontierScheduler",
    }
    if resolver is not None:
        settings["TWISTED_DNS_RESOLVER"] = resolver_class(resolver, policy)
    if policy is not None:
        # First of all: a URL naming an internal IP address goes nowhere, not even robots.txt.
        settings["DOWNLOADER_MIDDLEWARES"][middleware_class(policy)] = 10
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

    from crawler.guard import AddressPolicy
    from crawler.pipeline import SnapshotWriter
    from crawler.progress import CrawlCounters, ProgressReporter
    from crawler.spider import SiteSpider

    resolver = resolver or Resolver(config.dns, timeout=min(config.crawl.timeout, 10))
    policy = AddressPolicy.for_site(config, resolver)
    settings = scrapy_settings(config, resolver, policy)
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
        policy=policy,
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
    limits: dict[str, Any] = outcome.get("limits") or {}
    if limits_cut(limits):
        store_limits(store, run_id, limits)
    seconds = time.monotonic() - started
    progress(
        f"crawl finished: {writer.pages_written} pages, {writer.checks_written} targets checked, "
        f"{writer.links_written} links in {seconds:.1f} s "
        f"({time.process_time() - cpu_start:.1f} CPU s)"
    )
    if limits.get("targets_not_checked") or limits.get("links_not_taken"):
        progress(
            f"not checked: {limits.get('targets_not_checked', 0)} targets over "
            f"crawl.max_targets, {limits.get('links_not_taken', 0)} links over "
            f"crawl.max_links_per_page on {limits.get('pages_capped', 0)} pages"
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
        limits=limits,
        interrupted=outcome.get("close_reason") == "shutdown",
    )
