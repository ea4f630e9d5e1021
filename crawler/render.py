"""Chromium rendering for the crawler: a Scrapy downloader middleware.

A request with ``meta["govaudit_render"]`` true is loaded in Debian's Chromium (through
:mod:`core.browser`, whose worker thread owns the Playwright objects) and answered with
an :class:`~scrapy.http.HtmlResponse` holding the DOM after scripts ran, with
``meta["rendered"] = True``; links inserted by JavaScript are then extracted and checked
like any other. Other requests pass through untouched.

Pages whose list is built by scripts are also rendered without a flag
(``process_response``): an HTML page fetched plainly with a list container that is empty in
the HTML and filled by a script (:func:`core.scriptlists.has_script_list`, the criterion the
audits use to call a column "script-built") is loaded again in Chromium, within
``crawl.render.auto`` and the ``crawl.render.max_pages`` budget. Other inline scripts (a
site-wide ``var SiteInfo = {…}``, share buttons) do not cost a rendering.

When rendering fails (timeout, endless script, crash …) the reason goes into
``meta["render_error"]`` and the request is downloaded normally, so a page is never lost
because Chromium could not show it.

Inputs, in order of preference: ``GOVAUDIT_CONFIG`` / ``GOVAUDIT_RESOLVER`` settings, else the
spider's ``config`` attribute and the resolver bound to ``TWISTED_DNS_RESOLVER``.
``GOVAUDIT_RENDER_WORKERS`` (default 1) browsers render in parallel.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from scrapy import signals
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from core.browser import BrowserPool, BrowserSettings, PageInfo, host_rules_for, hostname
from core.config import Config
from core.dns import Resolver
from core.scriptlists import has_script_list

log = logging.getLogger(__name__)


class RenderMiddleware:
    """Renders flagged requests in Chromium; one pool of browsers per crawl."""

    def __init__(
        self,
        config: Config | None = None,
        resolver: Resolver | None = None,
        workers: int = 1,
        settle_timeout: float = 1.0,
    ) -> None:
        self.config = config
        self.resolver = resolver
        self.workers = max(1, workers)
        self.settle_timeout = settle_timeout
        self.pool: BrowserPool | None = None
        self.crawler: Any = None
        self.rendered = 0
        self.failed = 0
        self.auto_rendered = 0

    @classmethod
    def from_crawler(cls, crawler: Any) -> RenderMiddleware:
        s = crawler.settings
        resolver = s.get("GOVAUDIT_RESOLVER")
        if resolver is None:
            bound = s.get("TWISTED_DNS_RESOLVER")
            resolver = getattr(bound, "resolver", None) if isinstance(bound, type) else None
        mw = cls(
            config=s.get("GOVAUDIT_CONFIG"),
            resolver=resolver,
            workers=s.getint("GOVAUDIT_RENDER_WORKERS", 1),
            settle_timeout=s.getfloat("GOVAUDIT_RENDER_SETTLE", 1.0),
        )
        mw.crawler = crawler
        crawler.signals.connect(mw.close, signal=signals.spider_closed)
        return mw

    def _pool(self) -> BrowserPool:
        if self.pool is None:
            config = self._config()
            hosts: set[str] = set()
            timeout = 15.0
            if config is not None:
                hosts = {hostname(u) for u in config.site.urls} | set(config.site.extra_hosts)
                timeout = config.crawl.timeout
            settings = BrowserSettings(
                host_rules=host_rules_for(sorted(h for h in hosts if h), self.resolver),
                navigation_timeout=timeout,
                script_timeout=timeout,
                settle_timeout=self.settle_timeout,
                max_dialogs=1000,  # dismiss and carry on: the crawler wants the links
            )
            self.pool = BrowserPool(settings, size=self.workers)
        return self.pool

    def _config(self) -> Config | None:
        if self.config is None and self.crawler is not None:
            self.config = getattr(self.crawler.spider, "config", None)
        return self.config

    async def process_request(self, request: Request) -> Response | None:
        if not request.meta.get("govaudit_render"):
            return None
        return await self._render(request)

    async def process_response(self, request: Request, response: Response) -> Response:
        """Render a plainly fetched page again when its scripts build links."""
        meta = request.meta
        if (
            meta.get("rendered")
            or meta.get("govaudit_render")
            or meta.get("ga_kind", "page") != "page"
            or request.method != "GET"
            or response.status != 200
            or not isinstance(response, HtmlResponse)
        ):
            return response
        config = self._config()
        if config is None or not config.crawl.render.auto:
            return response
        if self.rendered + self.failed >= config.crawl.render.max_pages:
            return response
        if not _may_have_script_list(response.body) or not has_script_list(
            response.text, articles=False
        ):
            return response
        rendered = await self._render(request)
        if rendered is None:
            return response
        self.auto_rendered += 1
        return rendered

    async def _render(self, request: Request) -> Response | None:
        pool = self._pool()
        outcome = await maybe_deferred_to_future(deferToThread(pool.run, request.url, _snapshot))
        if not outcome.ok or outcome.value is None:
            self.failed += 1
            reason = outcome.not_tested.describe() if outcome.not_tested else "无结果"
            log.warning("rendering %s failed: %s; fetching it plainly", request.url, reason)
            request.meta["render_error"] = reason
            return None
        html, info = outcome.value
        self.rendered += 1
        request.meta["rendered"] = True
        headers = {k: v for k, v in info.headers.items() if k.lower() not in _DROP_HEADERS}
        headers["Content-Type"] = "text/html; charset=utf-8"
        return HtmlResponse(
            url=info.final_url or request.url,
            status=info.status or 200,
            headers=headers,
            body=html.encode("utf-8"),
            encoding="utf-8",
            request=request,
        )

    def close(self, spider: Any = None) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


_DROP_HEADERS = {"content-type", "content-length", "content-encoding", "transfer-encoding"}


def _snapshot(page: Any, info: PageInfo) -> tuple[str, PageInfo]:
    """The job run in the browser thread: the DOM after scripts ran."""
    return page.content(), info


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.I | re.S)
_BUILDS_LINK = re.compile(
    r"createElement\(\s*['\"]a['\"]\s*\)"
    r"|\.href\s*=(?!=)"
    r"|(?:innerHTML|outerHTML|insertAdjacentHTML|document\.write(?:ln)?|\.append|\.html)"
    r"[^;]{0,400}?<a[\s>]",
    re.I,
)


_SCRIPT_TAG = re.compile(rb"<script", re.I)


_TEMPLATE_ATTR = re.compile(rb"\b(?:ms-for|ms-repeat|ms-each|ng-repeat|v-for|x-for)\s*=", re.I)


def _may_have_script_list(body: bytes) -> bool:
    """False when the body has neither a <script tag nor a row template attribute."""
    return _may_have_inline_script(body) or _TEMPLATE_ATTR.search(body) is not None


def _may_have_inline_script(body: bytes) -> bool:
    """False when the body has no <script tag at all (decoding it is not needed to know).

    ASCII-compatible encodings keep ``<script`` as these bytes; UTF-16/32 bodies (NUL
    bytes) are always decoded and looked at.
    """
    return b"\x00" in body or _SCRIPT_TAG.search(body) is not None


def builds_links(html: str) -> bool:
    """Do the page's inline scripts insert links anywhere (so plain HTML misses some)?

    Kept for callers that want any script-built link; the automatic rendering decision is
    :func:`core.scriptlists.has_script_list` (an empty list container filled by script).

    ``location.href = …`` redirects are not link building and are ignored.
    """
    for body in _INLINE_SCRIPT.findall(html[:2_000_000]):
        for m in _BUILDS_LINK.finditer(body):
            before = body[max(0, m.start() - 12) : m.start() + 1]
            if m.group(0).startswith(".href") and re.search(r"location\s*\.?$", before[:-1]):
                continue
            return True
    return False
