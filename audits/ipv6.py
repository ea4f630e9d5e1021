"""IPv6 support, as internet.nl tests a homepage and as the national IPv6 monitor measures a site.

Homepage (internet.nl's method): the host names serving the homepage have AAAA records
(CNAMEs followed; IPv4-mapped values ignored); every AAAA address accepts TCP on each port
the site serves over IPv4; the homepage GET over IPv6 answers; and it answers the same as
over IPv4 — status, final URL, and content at least 90% similar once per-request noise
(nonces, CSRF tokens, timestamps …) is stripped. The domain needs two name servers that
answer over IPv6.

Site (国家IPv6发展监测平台's method): the share of 二级 links (on the homepage) and 三级
links (on the pages those lead to) that answer over IPv6 as they do over IPv4, embedded
resources included. Each URL is fetched over each family itself: an AAAA record on the
host is not enough.

Every host name is resolved once and every URL fetched at most once per family per run
(:class:`core.netprobe.FamilyFetcher`), on a bounded thread pool with short timeouts.
"""

from __future__ import annotations

import difflib
import heapq
import re
import statistics
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from core import __version__
from core.config import parse_dns_server
from core.dns import Lookup, Resolver
from core.netprobe import (
    FamilyFetcher,
    HttpResult,
    TcpResult,
    family_name,
    is_usable_ipv6,
    query_dns_server,
    tcp_connect,
)
from core.snapshot import SiteSnapshot, StatusKind

REGULATION = "《推进互联网协议第六版（IPv6）规模部署行动计划》；国家IPv6发展监测平台监测方法"
LEVEL2, LEVEL3 = "二级", "三级"


class IPv6Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout: float = Field(5.0, gt=0, description="Seconds per connect/read of one probe")
    dns_timeout: float = Field(
        3.0,
        gt=0,
        description="Seconds per query to a name server over IPv6 (and per lookup when the "
        "run has no shared resolver)",
    )
    ports: list[int] = Field(
        default_factory=lambda: [80, 443],
        description="Ports probed over IPv6 when they accept TCP over IPv4 (the homepage URL's "
        "own port is always probed)",
    )
    similarity_threshold: float = Field(
        0.9, ge=0, le=1, description="Minimum IPv4/IPv6 homepage content similarity"
    )
    min_ipv6_nameservers: int = Field(
        2, ge=0, description="Name servers that must answer over IPv6"
    )
    nameserver_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port the name servers are queried on; default 53, or the port of "
        "dns.server when that is not 53 (a loopback/staging DNS server)",
    )
    check_links: bool = Field(True, description="Measure 二级/三级 link support rates")
    link_min_similarity: float = Field(
        0.5,
        ge=0,
        le=1,
        description="A linked HTML page whose IPv6 answer shares less than this (estimated "
        "Jaccard of its tags and text) with the IPv4 answer does not support IPv6",
    )
    level2_target: float = Field(0.95, ge=0, le=1, description="Target share of 二级 links")
    level3_target: float = Field(0.90, ge=0, le=1, description="Target share of 三级 links")
    include_external: bool = Field(True, description="Count links to other sites too")
    include_resources: bool = Field(
        True, description="Count embedded resources (img, script, link, iframe …) too"
    )
    max_links_per_level: int = Field(
        2000, ge=1, description="At most this many URLs per level (first in crawl order)"
    )
    workers: int = Field(8, ge=1, le=64, description="Concurrent probes")
    max_redirects: int = Field(5, ge=0, le=20)
    verify_tls: bool = Field(True, description="Verify HTTPS certificates against the host name")
    ca_file: str | None = Field(
        None, description="PEM file of extra trusted CAs (an internal CA); default: the system's"
    )
    max_failing_listed: int = Field(
        50, ge=1, description="Failing URLs listed in a finding's evidence"
    )


#: Tags that are links a visitor follows; everything else is an embedded resource.
NAVIGATION_TAGS = frozenset({"a", "area"})


# ---- per-request noise, stripped before pages are compared ------------------------------
def _token_repl(m: re.Match[str]) -> str:
    value = m.group(0)
    has_digit = any(c.isdigit() for c in value)
    return "<token>" if has_digit and any(c.isalpha() for c in value) else value


_NOISE: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"""\snonce\s*=\s*(["']).*?\1""", re.I), ""),
    (
        re.compile(
            r"<input\b[^>]*\bname\s*=\s*[\"']?(?:__VIEWSTATE\w*|__EVENTVALIDATION|__EVENTTARGET|"
            r"__EVENTARGUMENT|__RequestVerificationToken|csrf\w*|_csrf\w*|xsrf\w*|_xsrf|"
            r"csrfmiddlewaretoken|_token|authenticity_token|token|formhash)\b[^>]*>",
            re.I,
        ),
        "",
    ),
    (
        re.compile(
            r"<meta\b[^>]*\bname\s*=\s*[\"']?(?:csrf[-_]?token|csrf[-_]?param|_csrf\w*|xsrf\w*)"
            r"[^>]*>",
            re.I,
        ),
        "",
    ),
    (  # token = "…", csrfToken: '…', ?sid=…, timestamp=… in scripts and URLs
        re.compile(
            r"""\b((?:csrf|xsrf|nonce|token|timestamp|sessionid|jsessionid|sid|_t)\w*["']?\s*[:=]\s*["']?)"""
            r"""[^"'\s;,&<>]+""",
            re.I,
        ),
        r"\1~",
    ),
    (
        re.compile(
            r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?[\sT]*\d{1,2}:\d{2}(?::\d{2})?"
            r"(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
        ),
        "<datetime>",
    ),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\b"), "<time>"),  # a clock with seconds
    (re.compile(r"\b1[4-9]\d{8}(?:\d{3})?\b"), "<ts>"),  # Unix time, s or ms
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<hex>"),  # hashes, UUID parts, session ids
    (re.compile(r"(?<![\w/.-])[A-Za-z0-9+_-]{24,}={0,2}"), _token_repl),  # base64 tokens
]
_LINES = re.compile(r"(?<=>)|(?=<)|(?<=[。；！？])")
MAX_LINES = 20_000


def strip_noise(html: str) -> str:
    """HTML with per-request values (nonces, CSRF tokens, clocks, session ids) neutralised.

    internet.nl strips script/style nonces and ASP.NET view state before comparing; this
    also neutralises CSRF tokens, clocks, Unix timestamps, long hex and base64 tokens.
    """
    for pattern, repl in _NOISE:
        html = pattern.sub(repl, html)
    return html


def _lines(html: str) -> list[str]:
    """Tags and sentences, one per item: the units the comparison aligns."""
    return [x for x in (part.strip() for part in _LINES.split(html)) if x][:MAX_LINES]


def similarity(a: str, b: str) -> float:
    """Similarity (0–1) of two HTML documents after noise stripping.

    difflib aligns tags and sentences; the score is the share of characters in aligned
    parts (as SequenceMatcher.ratio, weighted by length). Bounded: difflib's autojunk
    keeps repetitive pages linear-ish, and at most MAX_LINES parts are compared.
    """
    a, b = strip_noise(a), strip_noise(b)
    if a == b:
        return 1.0
    la, lb = _lines(a), _lines(b)
    total = sum(map(len, la)) + sum(map(len, lb))
    if not total:
        return 1.0
    matcher = difflib.SequenceMatcher(None, la, lb)
    matched = sum(
        sum(len(x) for x in la[blk.a : blk.a + blk.size]) for blk in matcher.get_matching_blocks()
    )
    return round(2 * matched / total, 4)


SKETCH_SIZE = 64
_CHEAP_NOISE = re.compile(r"<!--.*?-->|[A-Za-z0-9+/_=-]{16,}|\d+", re.S)
_PARTS = re.compile(r"<[^>]*>|[^<]+")


def page_sketch(html: str) -> tuple[int, ...]:
    """A bottom-k sketch of a page's lines (digits and long tokens blurred): a few hundred
    bytes that estimate how alike two pages are without keeping either (links are many)."""
    hashes = {hash(part) for part in _PARTS.findall(_CHEAP_NOISE.sub("0", html))}
    return tuple(sorted(heapq.nsmallest(SKETCH_SIZE, hashes)))


def sketch_similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of the two pages' line sets."""
    sa, sb = set(a), set(b)
    union = heapq.nsmallest(SKETCH_SIZE, sa | sb)
    if not union:
        return 1.0
    return sum(1 for x in union if x in sa and x in sb) / len(union)


# ---- link levels ------------------------------------------------------------------------
@dataclass
class LevelLink:
    url: str
    level: str
    source: str  # the page it was first seen on
    tag: str
    internal: bool


@dataclass
class LinkOutcome:
    link: LevelLink
    v4: HttpResult
    v6: HttpResult
    supported: bool | None  # None: not counted (does not work over IPv4 either)
    reason: str = ""


@dataclass
class LevelStats:
    level: str
    target: float
    found: int = 0
    outcomes: list[LinkOutcome] = field(default_factory=list)

    @property
    def counted(self) -> list[LinkOutcome]:
        return [o for o in self.outcomes if o.supported is not None]

    @property
    def supported(self) -> int:
        return sum(1 for o in self.outcomes if o.supported)

    @property
    def total(self) -> int:
        return len(self.counted)

    @property
    def rate(self) -> float | None:
        return self.supported / self.total if self.total else None

    @property
    def passed(self) -> bool | None:
        return None if self.rate is None else self.rate >= self.target


def _clean(url: str) -> str:
    return urldefrag(url.strip())[0]


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return 80


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _same_place(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme.lower(), (pa.netloc or "").lower(), pa.path or "/", pa.query) == (
        pb.scheme.lower(),
        (pb.netloc or "").lower(),
        pb.path or "/",
        pb.query,
    )


class IPv6Audit(AuditPlugin):
    name = "ipv6"
    title = "IPv6 支持情况"
    Options = IPv6Options
    wants_pages = False
    rules = [
        RuleSpec(
            id="ipv6.no_aaaa",
            title="网站域名未配置IPv6地址（AAAA记录）",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="在权威DNS中为网站域名（含CNAME指向的域名）添加AAAA记录，指向已启用IPv6的服务器或CDN节点。",
            unit="信息中心",
            category="IPv6",
            description="国家IPv6发展监测平台首先检查网站域名能否解析出IPv6地址；没有AAAA记录，IPv6用户无法访问网站。",
        ),
        RuleSpec(
            id="ipv6.unreachable",
            title="网站无法通过IPv6访问",
            severity=Severity.ERROR,
            regulation=REGULATION,
            advice="检查IPv6地址上的Web服务是否监听（80/443端口）、防火墙与安全组是否放行IPv6、负载均衡或CDN是否已开启IPv6回源。",
            unit="信息中心",
            category="IPv6",
            description="域名有AAAA记录，但该IPv6地址在网站经IPv4提供服务的端口上不接受TCP连接，或通过IPv6发起的HTTP(S)请求失败。",
        ),
        RuleSpec(
            id="ipv6.content_mismatch",
            title="IPv6与IPv4访问的首页内容不一致",
            severity=Severity.WARNING,
            regulation=REGULATION,
            advice="确认IPv6与IPv4指向同一套网站内容（同一源站或同步的镜像），检查IPv6入口的反向代理、CDN配置与跳转规则。",
            unit="信息中心",
            category="IPv6",
            description="参照internet.nl的方法：比较两种协议下首页的状态码、最终地址和内容（去除随机数、令牌、时间戳后相似度不低于90%）。",
        ),
        RuleSpec(
            id="ipv6.nameserver_no_ipv6",
            title="域名服务器的IPv6支持不足",
            severity=Severity.WARNING,
            regulation=REGULATION,
            advice="请域名解析服务商为至少两台权威域名服务器配置IPv6地址（AAAA记录），并确认其通过IPv6正常应答查询。",
            unit="信息中心",
            category="IPv6",
            description="仅支持IPv4的域名服务器会使纯IPv6环境下的用户无法解析网站域名；至少两台权威服务器应能通过IPv6应答。",
        ),
        RuleSpec(
            id="ipv6.link_support_low",
            title="二级/三级链接IPv6支持率未达标",
            severity=Severity.WARNING,
            regulation=REGULATION,
            advice="对清单中的链接逐一改造：站内栏目页和文章页须在IPv6下同样可访问，外链与图片、脚本、样式、框架等资源应替换为支持IPv6的地址或CDN。",
            unit="信息中心",
            category="IPv6",
            description="按国家IPv6发展监测平台的方法，统计首页上的链接（二级）及其所链页面上的链接（三级）中，经IPv6与经IPv4访问结果一致的比例，页面引用的图片、脚本、样式等资源一并计入。",
        ),
    ]

    # ---- entry point ---------------------------------------------------------------
    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        self.resolver = self.ctx.resolver or Resolver(self.ctx.config.dns, timeout=opts.dns_timeout)
        contact = self.ctx.config.crawl.contact
        self.fetcher = FamilyFetcher(
            self.resolver,
            timeout=opts.timeout,
            verify_tls=opts.verify_tls,
            tls_fallback=True,
            ca_file=opts.ca_file,
            digest=lambda result: page_sketch(result.text()),
            max_redirects=opts.max_redirects,
            user_agent=f"govaudit/{__version__}" + (f" (+{contact})" if contact else ""),
        )
        self.rows: list[list[Any]] = []
        self.timing_rows: list[list[Any]] = []
        findings: list[Finding] = []
        start_url = snapshot.run.start_urls[0] if snapshot.run.start_urls else snapshot.homepage_url
        home = snapshot.homepage_url
        self.ctx.progress("ipv6: homepage over IPv4 and IPv6")
        findings += self._homepage(start_url, home)
        self.ctx.progress("ipv6: name servers")
        findings += self._nameservers(_host(home))
        if opts.check_links:
            findings += self._links(snapshot, home, start_url)
        self.ctx.site_data["ipv6.table"] = {
            "title": "IPv6 支持情况（首页、域名服务器、二级/三级链接，按主机）",
            "columns": ["层级", "主机", "IPv6地址", "链接数", "IPv6可用", "支持率", "说明"],
            "rows": self.rows,
        }
        self.ctx.site_data["ipv6.timings.table"] = {
            "title": "IPv4/IPv6 访问耗时（毫秒）",
            "columns": ["对象", "协议", "DNS解析", "TCP连接", "TLS握手", "首字节", "总耗时"],
            "rows": self.timing_rows,
        }
        self.ctx.site_data["ipv6.requests"] = self.fetcher.requests_made
        return findings

    # ---- homepage: AAAA, TCP, HTTP, content ---------------------------------------
    def _homepage(self, start_url: str, home: str) -> list[Finding]:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        findings: list[Finding] = []
        with ThreadPoolExecutor(max_workers=2) as pool:
            f4 = pool.submit(self.fetcher.fetch, start_url, 4, True)
            f6 = pool.submit(self.fetcher.fetch, start_url, 6, True)
            v4, v6 = f4.result(), f6.result()
        hosts = list(dict.fromkeys(h for h in (_host(start_url), _host(home)) if h))
        ports = {h: {_port(u) for u in (start_url, home) if _host(u) == h} for h in hosts}
        no_aaaa_hosts: set[str] = set()
        tcp_failed: set[tuple[str, int]] = set()
        summary: dict[str, Any] = {"hosts": {}}
        for host in hosts:
            port = min(ports[host])
            look4 = self.resolver.lookup(host, 4, port)
            look6 = self.resolver.lookup(host, 6, port)
            usable = [a for a in look6.addresses if is_usable_ipv6(a)]
            mapped = [a for a in look6.addresses if a not in usable]
            host_info: dict[str, Any] = {
                "a": look4.addresses,
                "aaaa": usable,
                "cnames": look6.cnames or look4.cnames,
                "dns_ms": {"ipv4": round(look4.elapsed_ms, 1), "ipv6": round(look6.elapsed_ms, 1)},
                "tcp": [],
            }
            summary["hosts"][host] = host_info
            host_url = start_url if host == _host(start_url) else home
            if not usable:
                no_aaaa_hosts.add(host)
                findings.append(self._no_aaaa(host, host_url, look4, look6, mapped))
                self.rows.append(
                    ["首页", host, "无AAAA记录", 1, 0, "0.0%", look6.error or "未配置AAAA记录"]
                )
                continue
            # internet.nl's rule: every port the host serves over IPv4 must accept over IPv6.
            served = self._v4_served(look4.addresses, sorted(ports[host] | set(opts.ports)))
            host_info["ipv4_ports"] = {str(p): ms for p, ms in served.items()}
            with ThreadPoolExecutor(max_workers=min(opts.workers, 8)) as pool:
                results: list[TcpResult] = list(
                    pool.map(
                        lambda ap: tcp_connect(ap[0], ap[1], opts.timeout),
                        [(a, p) for a in usable for p in sorted(served)],
                    )
                )
            for res in results:
                host_info["tcp"].append(
                    {
                        "address": res.address,
                        "port": res.port,
                        "ok": res.ok,
                        "connect_ms": res.connect_ms,
                    }
                )
                if not res.ok:
                    tcp_failed.add((res.address, res.port))
                    findings.append(
                        self._tcp_unreachable(host, host_url, res, look6, served[res.port])
                    )
            bad = sum(1 for r in results if not r.ok)
            ports_text = "、".join(str(p) for p in sorted(served)) or "无"
            note = (
                f"端口 {ports_text} 经IPv6均可连接"
                if not bad
                else f"{bad}/{len(results)} 个地址端口经IPv6不可连接"
            )
            self.rows.append(
                ["首页", host, "、".join(usable), 1, 0 if bad == len(results) else 1, "", note]
            )

        # HTTP(S) over IPv6, and the comparison with IPv4.
        summary["ipv4"] = self._fetch_summary(v4)
        summary["ipv6"] = self._fetch_summary(v6)
        summary["reachable"] = bool(v6.ok)
        start_host = _host(start_url)
        # A certificate that verifies over IPv4 but not over IPv6 fails in every browser.
        v6_failed = (not v6.ok and (v4.ok or not v4.answered)) or (
            v4.tls_verified is True and v6.tls_verified is False
        )
        if v4.ok and v6_failed and start_host not in no_aaaa_hosts:
            explained = (v6.address, v6.port) in tcp_failed or (
                v6.status.kind is StatusKind.DNS_FAILURE and _host(v6.final_url) in no_aaaa_hosts
            )
            if not explained:
                findings.append(self._http_unreachable(start_url, v4, v6))
        if v4.ok and v6.ok and not v6_failed:
            findings += self._compare(start_url, v4, v6, summary, opts.similarity_threshold)
        self.ctx.site_data["ipv6.homepage"] = summary
        for label, res in (("IPv4", v4), ("IPv6", v6)):
            t = res.timings
            self.timing_rows.append(
                ["首页", label, t.dns_ms, t.connect_ms, t.tls_ms, t.first_byte_ms, t.total_ms]
            )
        self.ctx.site_data["ipv6.timings"] = {
            "homepage": {"ipv4": v4.timings.as_dict(), "ipv6": v6.timings.as_dict()}
        }
        return findings

    def _v4_served(self, addresses: list[str], ports: list[int]) -> dict[int, float | None]:
        """Port → IPv4 connect time, for the candidate ports that accept TCP over IPv4."""
        opts: IPv6Options = self.options  # type: ignore[assignment]
        pairs = [(port, a) for port in ports for a in addresses[:2]]
        with ThreadPoolExecutor(max_workers=min(opts.workers, 8)) as pool:
            results = list(pool.map(lambda pa: tcp_connect(pa[1], pa[0], opts.timeout), pairs))
        served: dict[int, float | None] = {}
        for (port, _addr), res in zip(pairs, results, strict=True):
            if res.ok and port not in served:
                served[port] = res.connect_ms
        return served

    @staticmethod
    def _fetch_summary(res: HttpResult) -> dict[str, Any]:
        return {
            "code": res.code,
            "status": res.status.kind.value,
            "error_detail": "" if res.answered else res.status.detail,
            "final_url": res.final_url,
            "address": res.address,
            "port": res.port,
            "redirects": [list(r) for r in res.redirects],
            "bytes": len(res.body),
            "tls_verified": res.tls_verified,
            "tls_problem": res.tls_problem,
            "timings": res.timings.as_dict(),
        }

    def _no_aaaa(
        self, host: str, url: str, look4: Lookup, look6: Lookup, mapped: list[str]
    ) -> Finding:
        via = f"（经CNAME {' → '.join(look6.cnames)}）" if look6.cnames else ""
        extra = "；仅有IPv4映射地址" if mapped else ""
        if look6.source == "override":
            extra += "；地址由 --resolve 指定，请同时为IPv6地址添加一条 --resolve"
        return Finding(
            rule="ipv6.no_aaaa",
            url=url,
            message=f"网站域名 {host}{via} 没有IPv6地址（AAAA记录）{extra}，IPv6用户无法访问网站。",
            key=f"no_aaaa:{host}",
            evidence={
                "host": host,
                "cnames": look6.cnames or look4.cnames,
                "ipv4_addresses": look4.addresses,
                "ipv6_addresses": [],
                "ignored_ipv4_mapped": mapped,
                "dns_error": look6.error,
                "dns_ms": round(look6.elapsed_ms, 1),
                "resolved_by": look6.source,
            },
        )

    def _tcp_unreachable(
        self, host: str, url: str, res: TcpResult, look6: Lookup, v4_connect_ms: float | None
    ) -> Finding:
        return Finding(
            rule="ipv6.unreachable",
            url=url,
            message=(
                f"{host} 的IPv6地址 {res.address} 在端口 {res.port} 上无法建立TCP连接"
                f"（{res.status.describe()}），而该端口经IPv4可以访问。"
            ),
            key=f"tcp:{host}:{res.address}:{res.port}",
            evidence={
                "host": host,
                "address": res.address,
                "port": res.port,
                "protocol": "TCP",
                "error": res.status.kind.value,
                "error_text": res.status.describe(),
                "error_detail": res.status.detail,
                "timings": {
                    "dns_ms": round(look6.elapsed_ms, 1),
                    "connect_ms": res.connect_ms,
                    "ipv4_connect_ms": v4_connect_ms,
                },
            },
        )

    def _http_unreachable(self, url: str, v4: HttpResult, v6: HttpResult) -> Finding:
        scheme = urlsplit(v6.final_url or url).scheme.upper() or "HTTP"
        outcome = v6.describe()
        error = v6.status.kind.value if not v6.answered else "http_error"
        if v6.answered and v6.tls_verified is False and v4.tls_verified:
            outcome, error = f"证书校验失败：{v6.tls_problem}", "tls_error"
        return Finding(
            rule="ipv6.unreachable",
            url=url,
            message=(
                f"通过IPv6访问首页失败（{outcome}，地址 {v6.address or '—'} 端口 {v6.port or '—'}），"
                f"经IPv4访问正常（HTTP {v4.code}）。"
            ),
            key=f"http:{url}",
            evidence={
                "address": v6.address,
                "port": v6.port,
                "protocol": scheme,
                "url": v6.final_url or url,
                "error": error,
                "error_text": outcome,
                "error_detail": v6.status.detail or v6.tls_problem,
                "ipv6_code": v6.code,
                "ipv4_code": v4.code,
                "timings": {"ipv6": v6.timings.as_dict(), "ipv4": v4.timings.as_dict()},
            },
        )

    def _compare(
        self,
        url: str,
        v4: HttpResult,
        v6: HttpResult,
        summary: dict[str, Any],
        threshold: float,
    ) -> list[Finding]:
        differences: list[str] = []
        if v4.code != v6.code:
            differences.append(f"状态码不同（IPv4 {v4.code}，IPv6 {v6.code}）")
        if not _same_place(v4.final_url, v6.final_url):
            differences.append(f"最终地址不同（IPv4 {v4.final_url}，IPv6 {v6.final_url}）")
        sim: float | None = None
        if v4.is_html or v6.is_html:
            sim = similarity(v4.text(), v6.text())
            if sim < threshold:
                differences.append(f"内容相似度 {sim:.0%}，低于 {threshold:.0%}")
        summary["similarity"] = sim
        summary["same_content"] = not differences
        if not differences:
            return []
        return [
            Finding(
                rule="ipv6.content_mismatch",
                url=url,
                message="经IPv6访问的首页与经IPv4访问的不一致：" + "；".join(differences) + "。",
                key=f"content:{url}",
                evidence={
                    "differences": differences,
                    "similarity": sim,
                    "threshold": threshold,
                    "ipv4": {
                        "code": v4.code,
                        "final_url": v4.final_url,
                        "bytes": len(v4.body),
                        "address": v4.address,
                    },
                    "ipv6": {
                        "code": v6.code,
                        "final_url": v6.final_url,
                        "bytes": len(v6.body),
                        "address": v6.address,
                    },
                },
            )
        ]

    # ---- name servers -----------------------------------------------------------------
    def _ns_port(self) -> int:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        if opts.nameserver_port:
            return opts.nameserver_port
        server = self.ctx.config.dns.server
        return parse_dns_server(server)[1] if server else 53

    def _nameservers(self, host: str) -> list[Finding]:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        if not host:
            return []
        pinned = self.resolver.override(host) is not None
        if pinned and not self.ctx.config.dns.server:
            # The host is pinned with --resolve (a staging server) and there is no DNS
            # server to ask: its public name servers are not what is being audited.
            note = "主机地址由 --resolve 指定且未配置DNS服务器，未检查域名服务器"
            self.ctx.site_data["ipv6.nameservers"] = {"zone": "", "error": "skipped", "note": note}
            self.rows.append(["域名服务器", host, "—", "", "", "", note])
            return []
        ns = self.resolver.nameservers(host)
        info: dict[str, Any] = {"zone": ns.zone, "error": ns.error, "servers": []}
        self.ctx.site_data["ipv6.nameservers"] = info
        if not ns.zone:
            self.rows.append(["域名服务器", host, "—", "", "", "", f"未能查到NS记录（{ns.error}）"])
            return []
        port = self._ns_port()

        def probe(name: str) -> dict[str, Any]:
            look = self.resolver.lookup(name, 6)
            addrs = [a for a in look.addresses if is_usable_ipv6(a)]
            probes = [query_dns_server(a, port, ns.zone, opts.dns_timeout) for a in addrs]
            return {
                "name": name,
                "ipv6": addrs,
                "answered": any(p.ok for p in probes),
                "probes": [p.as_dict() for p in probes],
            }

        with ThreadPoolExecutor(max_workers=min(opts.workers, 8)) as pool:
            servers = list(pool.map(probe, ns.names))
        info["servers"] = servers
        answering = [s["name"] for s in servers if s["answered"]]
        info["answering"] = len(answering)
        for s in servers:
            if not s["ipv6"]:
                note = "无IPv6地址"
            elif s["answered"]:
                rtts = [p["rtt_ms"] for p in s["probes"] if p["answered"]]
                note = f"经IPv6应答（{min(rtts)} ms）"
            else:
                errs = {p["error"] for p in s["probes"]}
                note = "IPv6地址无应答（" + "、".join(sorted(errs)) + "）"
            self.rows.append(
                ["域名服务器", s["name"], "、".join(s["ipv6"]) or "—", "", "", "", note]
            )
        if len(answering) >= opts.min_ipv6_nameservers:
            return []
        return [
            Finding(
                rule="ipv6.nameserver_no_ipv6",
                url=None,
                message=(
                    f"域名 {ns.zone} 的 {len(ns.names)} 台域名服务器中，只有 {len(answering)} 台"
                    f"可通过IPv6应答查询，少于 {opts.min_ipv6_nameservers} 台。"
                ),
                key=f"ns:{ns.zone}",
                evidence={
                    "zone": ns.zone,
                    "nameservers": servers,
                    "answering": len(answering),
                    "required": opts.min_ipv6_nameservers,
                    "port": port,
                },
            )
        ]

    # ---- 二级 / 三级 links ------------------------------------------------------------
    def _wanted(self, link_target: str, tag: str, internal: bool) -> bool:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        if urlsplit(link_target).scheme.lower() not in ("http", "https"):
            return False
        if not internal and not opts.include_external:
            return False
        if tag.lower() not in NAVIGATION_TAGS and not opts.include_resources:
            return False
        return True

    def levels(
        self, snapshot: SiteSnapshot, home: str, start_url: str
    ) -> dict[str, list[LevelLink]]:
        """二级 = links on the homepage; 三级 = links on the pages those lead to.

        A URL counts once, at the first level it appears on; the homepage itself is not
        counted.
        """
        seen = {_clean(home), _clean(start_url)}
        level2: list[LevelLink] = []
        for link in snapshot.links_from(home):
            url = _clean(link.target)
            if url in seen or not self._wanted(url, link.tag, link.internal):
                continue
            seen.add(url)
            level2.append(LevelLink(url, LEVEL2, link.source, link.tag, link.internal))
        level3: list[LevelLink] = []
        for parent in level2:
            if parent.tag.lower() not in NAVIGATION_TAGS:
                continue
            page = snapshot.page(parent.url)
            if page is None:
                continue
            for link in snapshot.links_from(page.final_url):
                url = _clean(link.target)
                if url in seen or not self._wanted(url, link.tag, link.internal):
                    continue
                seen.add(url)
                level3.append(LevelLink(url, LEVEL3, link.source, link.tag, link.internal))
        return {LEVEL2: level2, LEVEL3: level3}

    def _judge(self, link: LevelLink) -> LinkOutcome:
        v4 = self.fetcher.fetch(link.url, 4)
        v6 = self.fetcher.fetch(link.url, 6)
        if not v4.ok:
            return LinkOutcome(link, v4, v6, None, f"IPv4 也无法访问（{v4.describe()}），未计入")
        if v6.status.kind is StatusKind.DNS_FAILURE:
            host = _host(v6.final_url or link.url)
            return LinkOutcome(link, v4, v6, False, f"{host} 无IPv6地址（AAAA记录）")
        if not v6.answered:
            return LinkOutcome(link, v4, v6, False, f"IPv6 {v6.describe()}")
        if v4.tls_verified and v6.tls_verified is False:
            return LinkOutcome(link, v4, v6, False, f"IPv6 证书校验失败（{v6.tls_problem}）")
        if v6.code != v4.code:
            return LinkOutcome(
                link, v4, v6, False, f"IPv6 返回 HTTP {v6.code}，IPv4 返回 HTTP {v4.code}"
            )
        if not _same_place(v4.final_url, v6.final_url):
            return LinkOutcome(
                link, v4, v6, False, f"IPv6 跳转到 {v6.final_url}，IPv4 跳转到 {v4.final_url}"
            )
        if v4.digest is not None and v6.digest is not None:
            opts: IPv6Options = self.options  # type: ignore[assignment]
            sim = sketch_similarity(v4.digest, v6.digest)
            if sim < opts.link_min_similarity:
                return LinkOutcome(
                    link, v4, v6, False, f"IPv6 返回的页面内容与IPv4不同（相似度 {sim:.0%}）"
                )
        return LinkOutcome(link, v4, v6, True)

    def _links(self, snapshot: SiteSnapshot, home: str, start_url: str) -> list[Finding]:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        by_level = self.levels(snapshot, home, start_url)
        found = {level: len(links) for level, links in by_level.items()}
        # Large sites: the first N per level in crawl order (the evidence says so).
        by_level = {level: links[: opts.max_links_per_level] for level, links in by_level.items()}
        stats = {
            LEVEL2: LevelStats(LEVEL2, opts.level2_target, found[LEVEL2]),
            LEVEL3: LevelStats(LEVEL3, opts.level3_target, found[LEVEL3]),
        }
        all_links = by_level[LEVEL2] + by_level[LEVEL3]
        total = len(all_links)
        self.ctx.progress(f"ipv6: checking {total} 二级/三级 links over IPv4 and IPv6")
        done = 0
        with ThreadPoolExecutor(max_workers=opts.workers) as pool:
            for outcome in pool.map(self._judge, all_links):
                stats[outcome.link.level].outcomes.append(outcome)
                done += 1
                if done % 100 == 0:
                    self.ctx.progress(f"ipv6: {done}/{total} links checked")
        findings: list[Finding] = []
        details: dict[str, Any] = {}
        rates: dict[str, float | None] = {}
        for level, st in stats.items():
            rates[level] = st.rate
            excluded = len(st.outcomes) - st.total
            details[level] = {
                "rate": st.rate,
                "supported": st.supported,
                "total": st.total,
                "excluded": excluded,
                "target": st.target,
                "passed": st.passed,
                "links": len(st.outcomes),
                "found": st.found,
                "sampled": st.found > len(st.outcomes),
            }
            self._level_rows(st)
            if st.rate is not None and not st.passed:
                findings.append(self._level_finding(home, st, excluded))
        self.ctx.site_data["ipv6.rates"] = rates
        self.ctx.site_data["ipv6.levels"] = details
        self._link_timings(stats)
        return findings

    def _level_rows(self, st: LevelStats) -> None:
        hosts: dict[str, list[LinkOutcome]] = {}
        for o in st.outcomes:
            hosts.setdefault(_host(o.link.url), []).append(o)
        for host, outcomes in sorted(hosts.items()):
            counted = [o for o in outcomes if o.supported is not None]
            ok = sum(1 for o in counted if o.supported)
            look = self.resolver.lookup(host, 6)
            addrs = "、".join(a for a in look.addresses if is_usable_ipv6(a)) or "无AAAA记录"
            reasons = sorted({o.reason for o in counted if not o.supported})
            excluded = len(outcomes) - len(counted)
            note = "；".join(reasons[:3]) + ("…" if len(reasons) > 3 else "")
            if excluded:
                note = (note + "；" if note else "") + f"{excluded} 个IPv4也不可访问（未计入）"
            rate = ok / len(counted) if counted else None
            self.rows.append([st.level, host, addrs, len(counted), ok, _pct(rate), note])
        verdict = "—" if st.passed is None else ("达标" if st.passed else "未达标")
        self.rows.append(
            [
                st.level,
                "合计",
                "",
                st.total,
                st.supported,
                _pct(st.rate),
                f"目标 {st.target:.0%}，{verdict}",
            ]
        )

    def _level_finding(self, home: str, st: LevelStats, excluded: int) -> Finding:
        opts: IPv6Options = self.options  # type: ignore[assignment]
        failing = [o for o in st.outcomes if o.supported is False]
        listed = [
            {
                "url": o.link.url,
                "page": o.link.source,
                "tag": o.link.tag,
                "internal": o.link.internal,
                "ipv4": o.v4.describe(),
                "ipv6": o.v6.describe(),
                "ipv6_error": o.v6.status.kind.value if not o.v6.answered else "",
                "reason": o.reason,
            }
            for o in failing[: opts.max_failing_listed]
        ]
        return Finding(
            rule="ipv6.link_support_low",
            url=home,
            message=(
                f"{st.level}链接IPv6支持率为 {_pct(st.rate)}（{st.supported}/{st.total}），"
                f"低于目标 {st.target:.0%}；{len(failing)} 个链接经IPv6无法正常访问。"
            ),
            key=f"links:{st.level}",
            evidence={
                "level": st.level,
                "rate": st.rate,
                "target": st.target,
                "supported": st.supported,
                "total": st.total,
                "excluded": excluded,
                "failing_count": len(failing),
                "failing": listed,
            },
        )

    def _link_timings(self, stats: dict[str, LevelStats]) -> None:
        medians: dict[str, dict[str, float | None]] = {}
        for family, label in ((4, "IPv4"), (6, "IPv6")):
            results = [
                (o.v4 if family == 4 else o.v6) for st in stats.values() for o in st.outcomes
            ]
            row: dict[str, float | None] = {}
            for key in ("dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"):
                values = [getattr(r.timings, key) for r in results]
                values = [v for v in values if v is not None]
                row[key] = round(statistics.median(values), 1) if values else None
            medians[family_name(family).lower()] = row
            self.timing_rows.append(
                [
                    "链接（中位数）",
                    label,
                    row["dns_ms"],
                    row["connect_ms"],
                    row["tls_ms"],
                    row["first_byte_ms"],
                    row["total_ms"],
                ]
            )
        self.ctx.site_data.setdefault("ipv6.timings", {})["links_median"] = medians
