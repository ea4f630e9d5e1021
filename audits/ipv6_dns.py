"""The ipv6 plugin's DNS checks: the homepage host's missing AAAA record (a finding) and the
domain's name servers answering over IPv6. Knows nothing of HTTP, page comparison or the
二级/三级 link rates.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from audits.base import AuditContext, Finding
from core.config import parse_dns_server
from core.dns import Lookup, Resolver
from core.netprobe import is_usable_ipv6, query_dns_server

if TYPE_CHECKING:
    from audits.ipv6_options import IPv6Options


def _no_aaaa(host: str, url: str, look4: Lookup, look6: Lookup, mapped: list[str]) -> Finding:
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


class NameServerChecks:
    """Name servers over IPv6: a mixin of :class:`audits.ipv6.IPv6Audit`, which supplies the
    attributes below (``resolver`` and ``rows`` are set by ``check_site``)."""

    options: BaseModel
    ctx: AuditContext
    resolver: Resolver
    rows: list[list[Any]]

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
