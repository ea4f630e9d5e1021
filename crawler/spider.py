"""Fetch and schedule: the Scrapy spider that walks the site and checks every target.

Scheduling is our own: discovered URLs wait in a compact frontier (a deque of small
tuples), and only a bounded number of Scrapy requests exist at any time, so memory
stays flat however large the site is. Every unique target is fetched once: internal
pages are crawled (GET, parsed, stored), everything else is checked with HEAD (GET
when HEAD is refused or lies, stopped after the headers). Redirects are followed here,
hop by hop, so chains are recorded and loops end.

The frontier and the budgets (pages crawled, targets per run, what the limits cut) are
in :mod:`crawler.frontier`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Request, Response
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from core.config import Config
from core.snapshot import Link, LinkCheck, LinkStatus, Page, StatusKind
from crawler.bodies import DownloadLimits, is_html
from crawler.charset import decode_html
from crawler.checker import (
    HEAD_UNTRUSTED,
    looks_blocked,
    looks_soft_404,
    redirect_outcome,
    status_for_code,
    status_for_failure,
)
from crawler.extract import PAGE_TAGS, is_resource, parse_html
from crawler.frontier import CHECK, PAGE, PROBE, Frontier
from crawler.guard import AddressPolicy
from crawler.pipeline import SnapshotWriter
from crawler.progress import CrawlCounters, ProgressReporter
from crawler.scope import Scope, normalize_url

log = logging.getLogger(__name__)

#: Failures of a HEAD request that GET may not have: some servers drop HEAD requests.
_HEAD_DROPPED = (StatusKind.CONNECTION_RESET, StatusKind.ERROR)
#: Bytes of a link check's body kept (after decompression): enough for its <title>.
CHECK_BODY_BYTES = 262_144
_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
_JS_HINT = re.compile(r"javascript|脚本|启用|enable", re.IGNORECASE)


class SiteSpider(scrapy.Spider):
    name = "govaudit"

    def __init__(
        self,
        config: Config,
        writer: SnapshotWriter,
        outcome: dict[str, Any],
        progress: ProgressReporter,
        render_available: bool = False,
        policy: AddressPolicy | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.writer = writer
        self.outcome = outcome  # homepage_ok / homepage_error, read by run_crawl
        self.progress = progress
        self.counters: CrawlCounters = progress.counters
        self.render_available = render_available
        self.policy = policy  # internal addresses refused (crawler/guard.py)
        self.start_list = [u for u in (normalize_url(x) for x in config.site.urls) if u]
        self.homepage = self.start_list[0] if self.start_list else ""
        self.scope = Scope(config, self.start_list)
        c = config.crawl
        self.max_depth = c.max_depth
        self.max_redirects = c.max_redirects
        self.max_page_bytes = c.max_page_bytes
        self.max_links_per_page = c.max_links_per_page
        self.render_patterns = [re.compile(p) for p in c.render.patterns]
        self.render_auto = c.render.auto
        self.render_budget = c.render.max_pages if render_available else 0
        # Scheduling state: compact, bounded by the number of distinct URLs.
        self.download_limits: DownloadLimits | None = None
        self.seen: set[int] = set()
        self.pages_done: set[int] = set()
        self.frontier = Frontier(
            self.counters,
            max_pages=c.max_pages,
            max_targets=c.max_targets,
            max_links_per_page=c.max_links_per_page,
            max_page_bytes=c.max_page_bytes,
            max_inflight=max(32, c.concurrency * 4),
            page_slack=c.concurrency_per_host,
        )
        self.probe_sent = False
        self.outcome["limits"] = self.frontier.limits
        self._looper: LoopingCall | None = None

    # ---- lifecycle -------------------------------------------------------------------
    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_opened, signal=signals.spider_opened)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        # Stops downloads early; held here, as signals keep weak references to receivers.
        spider.download_limits = limits = DownloadLimits(spider.max_page_bytes)
        crawler.signals.connect(limits.on_headers, signal=signals.headers_received)
        crawler.signals.connect(limits.on_bytes, signal=signals.bytes_received)
        return spider

    def on_opened(self, spider: Any = None) -> None:
        self._looper = LoopingCall(self._tick)
        self._looper.start(5.0, now=False)

    def on_closed(self, spider: Any = None, reason: str = "") -> None:
        self.outcome["close_reason"] = reason  # "finished", or "shutdown" on SIGINT/SIGTERM
        if self._looper is not None and self._looper.running:
            self._looper.stop()
        self.writer.flush()
        self._tick()

    def _tick(self) -> None:
        self.counters.queued = len(self.frontier)
        self.progress.tick()

    def on_idle(self, spider: Any = None) -> None:
        if self.frontier.has_waiting():
            sent = list(self._drain())
            if not sent and self.frontier.parked:  # nothing in flight can free budget
                self.frontier.unpark_as_checks()
                sent = list(self._drain())
            for request in sent:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        for i, url in enumerate(self.start_list):
            if self._mark_seen(url):
                self.frontier.targets += 1
                self.frontier.started()
                yield self._request(url, PAGE, 0, homepage=(i == 0), slot=True)
        if self.config.site.sitemap:
            self.frontier.started()
            yield Request(
                self.config.site.sitemap,
                callback=self.on_sitemap,
                errback=self.on_sitemap_failure,
                dont_filter=True,
                meta={"handle_httpstatus_all": True},
            )

    # ---- requests ----------------------------------------------------------------------
    def _mark_seen(self, url: str) -> bool:
        h = hash(url)
        if h in self.seen:
            return False
        self.seen.add(h)
        return True

    def _request(
        self,
        url: str,
        kind: str,
        depth: int,
        method: str | None = None,
        hops: list[tuple[int, str]] | None = None,
        origin: str | None = None,
        started: float | None = None,
        homepage: bool = False,
        render: bool = False,
        slot: bool = False,
    ) -> Request:
        """A request; ``slot``: it holds one of the page budget's slots (pages only)."""
        if method is None:
            method = "HEAD" if kind == CHECK else "GET"
        slot = slot and kind == PAGE
        if slot:
            self.frontier.acquire_slot()
        meta: dict[str, Any] = {
            "dont_redirect": True,
            "handle_httpstatus_all": True,
            "ga_kind": kind,
            "ga_depth": depth,
            "ga_hops": hops or [],
            "ga_origin": origin or url,
            "ga_started": started or time.monotonic(),
            "ga_homepage": homepage,
            "ga_slot": slot,
            # Bodies are cut here after decompression too (crawler/bodies.py).
            "ga_max_body": self.max_page_bytes if kind == PAGE else CHECK_BODY_BYTES,
        }
        if kind != PAGE:
            # One request to test a target is not crawling: robots.txt governs crawling.
            meta["dont_obey_robotstxt"] = True
        if kind == PAGE and self.render_available:
            if render or any(p.search(url) for p in self.render_patterns):
                if render or self._take_render_budget():
                    meta["govaudit_render"] = True
        return Request(
            url,
            method=method,
            callback=self.on_response,
            errback=self.on_failure,
            meta=meta,
            dont_filter=True,
            priority=1 if kind == PAGE else 0,
        )

    def _take_render_budget(self) -> bool:
        if self.render_budget <= 0:
            return False
        self.render_budget -= 1
        return True

    def _done(self, meta: dict[str, Any]) -> None:
        self.frontier.done(meta)

    def _drain(self) -> Iterator[Request]:
        for url, depth, kind in self.frontier.take():
            yield self._request(url, kind, depth, slot=True)

    def _consider(self, url: str, tag: str, internal: bool, depth: int) -> None:
        """Queue a newly seen target: crawl it (internal page) or check it (the rest)."""
        if not self._mark_seen(url):
            return
        if self.scope.is_excluded(url):
            return
        kind = CHECK
        limit = self.max_depth if internal else self.scope.entrance_limit(url)  # entrance hosts
        if limit is not None and tag in PAGE_TAGS and not is_resource(url):
            if not self.scope.admit_query(url):
                return  # a calendar-style trap: enough variants of this path already
            if (
                (self.scope.in_prefixes(url) or not internal)
                and depth <= limit
                and self.frontier.budget_left()
            ):
                kind = PAGE
        elif not internal and not self.config.crawl.check_external:
            return
        self.frontier.add(url, depth, kind)

    # ---- callbacks ---------------------------------------------------------------------
    # Callbacks hand requests straight to the engine (engine.crawl) instead of yielding
    # them: yielded requests go through the spider-middleware chain one by one, which
    # costs more CPU than fetching them.
    def _send(self, requests: Iterator[Request]) -> None:
        for request in requests:
            self.crawler.engine.crawl(request)

    def on_response(self, response: Response) -> None:
        try:
            self._send(self._handle_response(response))
        except Exception as exc:  # a broken page must not stop the crawl
            log.exception("error handling %s", response.url)
            meta = response.meta
            self._record(
                meta["ga_origin"],
                LinkStatus(StatusKind.ERROR, None, f"{type(exc).__name__}: {exc}"[:300]),
                response,
                meta.get("ga_kind", CHECK),
            )
            self._done(meta)
        self._send(self._drain())

    def on_failure(self, failure: Failure) -> None:
        request: Request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        kind = meta.get("ga_kind", CHECK)
        if meta.get("govaudit_render") and meta.get("ga_fallback") is not None:
            # Rendering failed: use the HTML we already had.
            self._on_rendered_fallback(request)
            self._send(self._drain())
            return
        if failure.check(IgnoreRequest):
            status = LinkStatus(StatusKind.SKIPPED, None, "robots.txt")
        else:
            status = status_for_failure(failure)
        if self.policy is not None:  # Twisted reports a name it refused as "no results"
            status = self.policy.explain(status, request.url)
        if kind == CHECK and request.method == "HEAD" and status.kind in _HEAD_DROPPED:
            # Some servers drop HEAD requests: try GET before believing it.
            self.crawler.engine.crawl(
                self._request(
                    request.url,
                    CHECK,
                    meta["ga_depth"],
                    "GET",
                    meta["ga_hops"],
                    meta["ga_origin"],
                    meta["ga_started"],
                )
            )
            return
        self._record(meta["ga_origin"], status, None, kind, request=request)
        self._done(meta)
        self._send(self._drain())

    def _handle_response(self, response: Response) -> Iterator[Request]:
        meta = response.meta
        kind: str = meta["ga_kind"]
        origin: str = meta["ga_origin"]
        hops: list[tuple[int, str]] = meta["ga_hops"]
        code = response.status
        location = response.headers.get(b"Location")
        if 300 <= code < 400 and location:
            target, new_hops, ended = redirect_outcome(
                response.url, code, location.decode("latin-1"), origin, hops, self.max_redirects
            )
            if ended is not None or target is None:
                self._record(
                    origin, ended or LinkStatus(StatusKind.ERROR), response, kind, new_hops
                )
            else:
                method = "GET" if code == 303 or response.request.method == "GET" else "HEAD"
                if kind == PAGE and not self.scope.may_crawl(target):
                    kind = CHECK  # a page that redirects off-site: check, do not crawl
                slot = bool(meta.get("ga_slot")) and kind == PAGE
                self.frontier.release_slot(meta)  # the next hop takes it (if still a page)
                yield self._request(
                    target,
                    kind,
                    meta["ga_depth"],
                    method,
                    new_hops,
                    origin,
                    meta["ga_started"],
                    meta.get("ga_homepage", False),
                    slot=slot,
                )
                return
            self._done(meta)
            return

        if kind == CHECK and response.request.method == "HEAD" and code in HEAD_UNTRUSTED:
            yield self._request(
                response.url, CHECK, meta["ga_depth"], "GET", hops, origin, meta["ga_started"]
            )
            return

        status = status_for_code(code)
        ctype = response.headers.get(b"Content-Type", b"").decode("latin-1")
        if kind == PAGE and 200 <= code < 300 and is_html(ctype):
            yield from self._handle_page(response, ctype)
            return
        if kind == PROBE:
            self._record(origin, status, response, kind, hops, soft_404=(code == 200))
            self._done(meta)
            return
        if status.is_ok and kind == CHECK and "html" in ctype.lower() and response.body:
            m = _TITLE_RE.search(response.body[:65536])
            if m:
                title, _ = decode_html(m.group(1), ctype)
                if looks_blocked(title.strip()):
                    status = LinkStatus(
                        StatusKind.BLOCKED, code, f"firewall page: {title.strip()[:80]}"
                    )
        if meta.get("ga_homepage") and not status.is_ok:
            self.outcome["homepage_error"] = status.describe() + (
                f" ({status.detail})" if status.detail else ""
            )
        self._record(origin, status, response, kind, hops)
        self._done(meta)

    def _handle_page(self, response: Response, ctype: str) -> Iterator[Request]:
        meta = response.meta
        origin: str = meta["ga_origin"]
        hops = meta["ga_hops"]
        depth: int = meta["ga_depth"]
        final = normalize_url(response.url) or response.url
        if final != origin:
            h = hash(final)
            if h in self.pages_done:  # reached by a redirect; already crawled
                self._record(origin, status_for_code(response.status), response, PAGE, hops)
                self._done(meta)
                return
            self.seen.add(h)
        if not self.frontier.budget_left() and depth > 0:
            # The budget filled up while this page was on its way: it was checked, and
            # that is all (at most concurrency_per_host such fetches, see Frontier).
            self._record(origin, status_for_code(response.status), response, CHECK, hops)
            self._done(meta)
            return
        body = response.body
        truncated = bool(meta.get("ga_truncated")) or len(body) > self.max_page_bytes
        if truncated:
            body = body[: self.max_page_bytes]
        html, encoding = decode_html(body, ctype)
        parsed = parse_html(html, final, encoding, self.max_links_per_page)
        rendered = bool(meta.get("rendered"))

        if (
            not rendered
            and self.render_available
            and self.render_auto
            and not meta.get("govaudit_render")
            and parsed.scripts > 0
            and (
                parsed.empty_app
                or len([x for x in parsed.links if x.tag in PAGE_TAGS]) < 3
                and (_JS_HINT.search(parsed.noscript) or parsed.text_len < 200)
            )
            and self._take_render_budget()
        ):
            # Looks built by scripts: fetch it again through Chromium (once).
            slot = bool(meta.get("ga_slot"))
            self.frontier.release_slot(meta)  # the rendering request takes it
            request = self._request(
                response.url,
                PAGE,
                depth,
                "GET",
                hops,
                origin,
                meta["ga_started"],
                meta.get("ga_homepage", False),
                render=True,
                slot=slot,
            )
            request.meta["ga_fallback"] = (body, ctype)
            yield request
            return
        self._store_page(
            response,
            final,
            origin,
            hops,
            depth,
            html,
            encoding,
            parsed,
            ctype,
            truncated,
            rendered,
            len(response.body),
        )

    def _on_rendered_fallback(self, request: Request) -> None:
        meta = request.meta
        body, ctype = meta["ga_fallback"]
        final = normalize_url(request.url) or request.url
        html, encoding = decode_html(body, ctype)
        parsed = parse_html(html, final, encoding, self.max_links_per_page)
        fake = Response(request.url, status=200, headers={"Content-Type": ctype}, request=request)
        self._store_page(
            fake,
            final,
            meta["ga_origin"],
            meta["ga_hops"],
            meta["ga_depth"],
            html,
            encoding,
            parsed,
            ctype,
            False,
            False,
            len(body),
        )

    def _store_page(
        self,
        response: Response,
        final: str,
        origin: str,
        hops: list[tuple[int, str]],
        depth: int,
        html: str,
        encoding: str,
        parsed: Any,
        ctype: str,
        truncated: bool,
        rendered: bool,
        size: int,
    ) -> None:
        meta = response.meta if response.request is not None else {}
        self.pages_done.add(hash(final))
        status = status_for_code(response.status)
        soft = looks_soft_404(parsed.title, parsed.h1, parsed.short_text, parsed.text_len)
        if looks_blocked(parsed.title) and parsed.text_len < 2000:
            status = LinkStatus(
                StatusKind.BLOCKED, response.status, f"firewall page: {parsed.title[:80]}"
            )
        page_meta: dict[str, Any] = dict(parsed.meta)
        page_meta["_h1"] = parsed.h1
        if truncated:
            page_meta["_truncated"] = True
            reason = meta.get("ga_truncated_reason") or "size"
            page_meta["_truncated_reason"] = reason
            self.frontier.note("truncated", [final, reason, meta.get("ga_bytes") or size])
        if parsed.partial:
            page_meta["_partial_parse"] = parsed.partial
            self.frontier.note("partial", [final, parsed.partial])
        if parsed.links_over:
            found = len(parsed.links) + parsed.links_over
            self.frontier.note("capped", [final, found, len(parsed.links)], parsed.links_over)
        lm = response.headers.get(b"Last-Modified")
        if lm:
            page_meta["_last_modified"] = lm.decode("latin-1")
        is_home = bool(meta.get("ga_homepage"))
        if is_home:
            if status.is_ok:
                self.outcome["homepage_ok"] = True
                self.outcome["homepage_url"] = final
            else:
                self.outcome["homepage_error"] = status.describe()
        self.writer.add_page(
            Page(
                url=origin,
                final_url=final,
                status_code=response.status,
                content_type=ctype,
                encoding=encoding,
                title=parsed.title,
                depth=depth,
                html=html,
                size=size,
                fetched_at=datetime.now(UTC).replace(tzinfo=None),
                rendered=rendered,
                meta=page_meta,
            )
        )
        self.counters.pages += 1
        if rendered:
            self.counters.rendered += 1
        self._record(origin, status, response, PAGE, hops, soft_404=soft, method="crawl")
        rows: list[Link] = []
        self.scope.note_entrances(final, parsed.links, depth + 1)  # crawl.follow_entrances
        for link in parsed.links:
            internal = self.scope.is_internal(link.target)
            rows.append(Link(final, link.target, link.tag, link.text, internal, link.raw))
            self._consider(link.target, link.tag, internal, depth + 1)
        self.writer.add_links(rows)
        if is_home and status.is_ok and not self.probe_sent:
            self.probe_sent = True
            parts = urlsplit(final)
            probe = f"{parts.scheme}://{parts.netloc}/govaudit-probe-{secrets.token_hex(6)}.html"
            self.frontier.add_next(probe, 1, PROBE)
        self._done(meta)

    def _record(
        self,
        url: str,
        status: LinkStatus,
        response: Response | None,
        kind: str,
        hops: list[tuple[int, str]] | None = None,
        soft_404: bool = False,
        method: str | None = None,
        request: Request | None = None,
    ) -> None:
        req = response.request if response is not None else request
        started = (req.meta.get("ga_started") if req is not None else None) or time.monotonic()
        if method is None:
            method = {PAGE: "crawl", PROBE: "probe"}.get(kind) or (
                req.method if req is not None else "GET"
            )
        if kind == PROBE:
            method = "probe"
        if hops is None and req is not None:
            hops = req.meta.get("ga_hops", [])
        # Time on the wire for answers (queueing in a busy crawl is not the server's
        # fault); time since the first attempt for failures such as timeouts.
        latency = response.meta.get("download_latency") if response is not None else None
        elapsed_ms = int((latency if latency is not None else time.monotonic() - started) * 1000)
        final = None
        if response is not None:
            final = normalize_url(response.url) or response.url
        ctype = (
            response.headers.get(b"Content-Type", b"").decode("latin-1")
            if response is not None
            else None
        )
        self.writer.add_check(
            LinkCheck(
                url=url,
                status=status,
                final_url=final,
                redirects=list(hops or []),
                elapsed_ms=elapsed_ms,
                content_type=ctype or None,
                method=method,
                soft_404=soft_404,
            )
        )
        if kind != PROBE:
            self.counters.checks += 1
            if not status.is_ok or soft_404:
                self.counters.errors += 1
        if req is not None and req.meta.get("ga_homepage") and not status.is_ok:
            self.outcome.setdefault(
                "homepage_error",
                status.describe() + (f": {status.detail}" if status.detail else ""),
            )

    # ---- sitemap -------------------------------------------------------------------------
    def on_sitemap(self, response: Response) -> None:
        self.frontier.done()
        if response.status == 200:
            for loc in re.findall(rb"<loc>\s*(.*?)\s*</loc>", response.body, re.IGNORECASE):
                url = normalize_url(loc.decode("utf-8", "replace"))
                if url and self.scope.is_internal(url):
                    self._consider(url, "a", True, 1)
        self._send(self._drain())

    def on_sitemap_failure(self, failure: Failure) -> None:
        self.frontier.done()
        log.warning("sitemap could not be fetched: %s", failure.value)
        self._send(self._drain())
