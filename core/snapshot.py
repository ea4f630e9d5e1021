"""The site snapshot: what a crawl saw, as plain data.

The crawler writes these types, the store keeps them, and audit plugins read them.
Nothing here knows about Scrapy or about audits.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


class StatusKind(enum.StrEnum):
    """The outcome of checking one link target. A status is data, not a string."""

    OK = "ok"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    DNS_FAILURE = "dns_failure"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_RESET = "connection_reset"
    TLS_ERROR = "tls_error"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED = "blocked"  # 403/429/captcha from a firewall: could not test, never "broken"
    SKIPPED = "skipped"  # out of scope, robots.txt, max pages reached: not tested
    PRIVATE_ADDRESS = "private_address"  # resolves to an internal address: not fetched
    ERROR = "error"  # anything else the network stack raised


# Human text (Chinese, user-facing) and a hint for each kind.
STATUS_TEXT: dict[StatusKind, tuple[str, str]] = {
    StatusKind.OK: ("正常", ""),
    StatusKind.HTTP_ERROR: ("HTTP错误", "检查链接地址是否正确、目标页面是否已删除或迁移"),
    StatusKind.TIMEOUT: ("访问超时", "目标服务器响应过慢或无法访问，请联系目标网站或更换链接"),
    StatusKind.DNS_FAILURE: ("域名无法解析", "域名已失效或拼写错误，请核对域名"),
    StatusKind.CONNECTION_REFUSED: ("连接被拒绝", "目标服务器未提供服务，请确认服务是否停止"),
    StatusKind.CONNECTION_RESET: ("连接被重置", "目标服务器中断了连接，请稍后复查"),
    StatusKind.TLS_ERROR: ("证书或加密连接错误", "检查目标网站的HTTPS证书是否过期或不受信任"),
    StatusKind.REDIRECT_LOOP: ("重定向循环", "修正目标网站的跳转设置，避免循环跳转"),
    StatusKind.TOO_MANY_REDIRECTS: ("重定向次数过多", "减少跳转层级，直接链接最终地址"),
    StatusKind.BLOCKED: ("被防护策略拦截，无法检测", "由网站管理员人工复核该链接"),
    StatusKind.SKIPPED: ("未检测", ""),
    StatusKind.PRIVATE_ADDRESS: (
        "指向内网或保留地址，未访问",
        "链接或跳转指向内网、本机、链路本地等非公网地址，公众无法访问；请改为公网地址或删除该链接",
    ),
    StatusKind.ERROR: ("访问出错", "人工复核该链接"),
}

#: Kinds that mean the target is broken (links.broken).
BROKEN_KINDS = frozenset(
    {
        StatusKind.HTTP_ERROR,
        StatusKind.DNS_FAILURE,
        StatusKind.CONNECTION_REFUSED,
        StatusKind.CONNECTION_RESET,
        StatusKind.TLS_ERROR,
        StatusKind.ERROR,
        StatusKind.PRIVATE_ADDRESS,
    }
)

#: The crawler's record of what its limits cut (one check row per run, not a target):
#: ``method`` is CRAWL_LIMITS_METHOD, ``url`` CRAWL_LIMITS_URL and ``status.detail`` a JSON
#: object with the counts (see crawler.spider.SiteSpider.limits). Audits skip it as a target.
CRAWL_LIMITS_METHOD = "limits"
CRAWL_LIMITS_URL = "govaudit:crawl-limits"


@dataclass(frozen=True)
class LinkStatus:
    kind: StatusKind
    code: int | None = None  # HTTP status code, where there was one
    detail: str = ""  # the underlying error, for developers and evidence

    @property
    def is_ok(self) -> bool:
        return self.kind is StatusKind.OK

    @property
    def is_broken(self) -> bool:
        return self.kind in BROKEN_KINDS

    def describe(self) -> str:
        """Chinese one-line description, e.g. 'HTTP错误 404'."""
        text = STATUS_TEXT[self.kind][0]
        return f"{text} {self.code}" if self.code else text

    @property
    def hint(self) -> str:
        return STATUS_TEXT[self.kind][1]


@dataclass
class LinkCheck:
    """The result of checking one unique target URL once."""

    url: str
    status: LinkStatus
    final_url: str | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)  # (code, location) hops
    elapsed_ms: int | None = None
    content_type: str | None = None
    method: str = "GET"  # crawl | HEAD | GET
    soft_404: bool = False  # a 200 whose content says the page does not exist


@dataclass
class Page:
    """An HTML page the crawler fetched (internal pages only)."""

    url: str
    final_url: str
    status_code: int
    content_type: str = ""
    encoding: str = ""
    title: str = ""
    depth: int = 0
    html: str | None = None  # decoded text; None when not HTML or not kept
    size: int = 0
    fetched_at: datetime | None = None
    rendered: bool = False  # True when the HTML is from Chromium after scripts ran
    meta: dict[str, Any] = field(default_factory=dict)  # <meta name=...> values, headers …


@dataclass(frozen=True)
class Link:
    """One link as written on one page."""

    source: str  # the page it is on (final URL of that page)
    target: str  # absolute, normalised URL
    tag: str  # a, img, script, link, iframe, area, source, embed, object, …
    text: str = ""  # anchor text or alt
    internal: bool = True
    raw: str = ""  # the attribute value as written


@dataclass
class TextPiece:
    """A located piece of document text: an attachment's page, sheet or body (``url`` is the
    attachment, ``page_url`` the page that links to it). ``status`` is "ok", or why the file
    was not read (scanned, too_large, timeout, unreadable, fetch_failed, refused) with
    ``detail``; ``spans`` map offsets in ``text`` to finer locations (cells, paragraphs)."""

    url: str
    page_url: str
    location: str
    text: str
    format: str = ""
    status: str = "ok"
    detail: str = ""
    spans: list[tuple[int, str]] = field(default_factory=list)

    def where(self, offset: int) -> str:
        """The finest location of the character at ``offset`` (e.g. 名单!C4 or 第3页)."""
        best = ""
        for start, label in self.spans:
            if start > offset:
                break
            best = label
        return best or self.location


@dataclass
class RunInfo:
    id: int
    site: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    pages_crawled: int = 0
    links_checked: int = 0
    config: dict[str, Any] = field(default_factory=dict)
    plugins: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    start_urls: list[str] = field(default_factory=list)


class SiteSnapshot(Protocol):
    """What an audit plugin reads. Backed by the store; iterating streams from disk."""

    run: RunInfo

    @property
    def homepage_url(self) -> str: ...

    def pages(self, with_html: bool = True) -> Iterator[Page]: ...

    def page(self, url: str) -> Page | None: ...

    def links(self) -> Iterator[Link]: ...

    def links_from(self, page_url: str) -> list[Link]: ...

    def links_to(self, target: str) -> list[Link]: ...

    def check(self, url: str) -> LinkCheck | None: ...

    def checks(self) -> Iterator[LinkCheck]: ...

    def texts(self) -> Iterator[TextPiece]: ...

    def artifact_dir(self) -> str: ...
