"""The ipv6 plugin's site measure, 国家IPv6发展监测平台's way: which URLs are 二级/三级
links, whether each answers over IPv6 as over IPv4, the support rate per level and its
table rows. Knows nothing of the homepage's TCP probes or the name servers.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

from pydantic import BaseModel

from audits.base import AuditContext, Finding
from audits.ipv6_compare import _host, _same_place, sketch_similarity
from core.dns import Resolver
from core.netprobe import FamilyFetcher, HttpResult, family_name, is_usable_ipv6
from core.snapshot import SiteSnapshot, StatusKind

if TYPE_CHECKING:
    from audits.ipv6_options import IPv6Options

LEVEL2, LEVEL3 = "二级", "三级"

#: Tags that are links a visitor follows; everything else is an embedded resource.
NAVIGATION_TAGS = frozenset({"a", "area"})


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


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


class LinkRates:
    """二级/三级 link support rates: a mixin of :class:`audits.ipv6.IPv6Audit`, which supplies
    the attributes below (all but ``options`` and ``ctx`` set by ``check_site``)."""

    options: BaseModel
    ctx: AuditContext
    resolver: Resolver
    fetcher: FamilyFetcher
    rows: list[list[Any]]
    timing_rows: list[list[Any]]

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
