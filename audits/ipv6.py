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

This module is the plugin: its rules and ``check_site`` (its options are in
``ipv6_options``). The checks are mixins in ``ipv6_dns`` (name servers, AAAA),
``ipv6_probe`` (the homepage) and ``ipv6_rates`` (二级/三级 links); ``ipv6_compare`` holds
the text comparisons they share.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from audits.ipv6_compare import _host, page_sketch
from audits.ipv6_dns import NameServerChecks
from audits.ipv6_options import IPv6Options
from audits.ipv6_probe import HomepageProbe
from audits.ipv6_rates import LinkRates
from core import __version__
from core.dns import Resolver
from core.netprobe import FamilyFetcher
from core.snapshot import SiteSnapshot

REGULATION = "《推进互联网协议第六版（IPv6）规模部署行动计划》；国家IPv6发展监测平台监测方法"


class IPv6Audit(NameServerChecks, HomepageProbe, LinkRates, AuditPlugin):
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
