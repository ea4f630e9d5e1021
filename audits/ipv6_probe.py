"""The ipv6 plugin's homepage checks, internet.nl's way: AAAA addresses accept TCP on the
ports served over IPv4, the homepage answers over IPv6, and answers as over IPv4. Knows
nothing of name servers or the 二级/三级 link rates.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from audits.base import AuditContext, Finding
from audits.ipv6_compare import _host, _same_place, similarity
from audits.ipv6_dns import _no_aaaa
from core.dns import Lookup, Resolver
from core.netprobe import FamilyFetcher, HttpResult, TcpResult, is_usable_ipv6, tcp_connect
from core.snapshot import StatusKind

if TYPE_CHECKING:
    from audits.ipv6_options import IPv6Options


def _port(url: str) -> int:
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return 80


class HomepageProbe:
    """The homepage over IPv4 and IPv6: a mixin of :class:`audits.ipv6.IPv6Audit`, which
    supplies the attributes below (all but ``options`` and ``ctx`` set by ``check_site``)."""

    options: BaseModel
    ctx: AuditContext
    resolver: Resolver
    fetcher: FamilyFetcher
    rows: list[list[Any]]
    timing_rows: list[list[Any]]

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
                findings.append(_no_aaaa(host, host_url, look4, look6, mapped))
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
