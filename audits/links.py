"""Links audit: broken links, timeouts, redirect loops, soft 404s and blocked checks.

Reads the crawler's link checks (one per unique target) and reports one finding per
(source page, target), with the link text. Links on the homepage are marked: the
inspection indicators weigh them more (scorecard inputs ``links.broken_homepage`` and
``links.broken_other``). Only targets whose check is not OK are looked up, so the audit
costs little on a large, healthy site.

The crawler's limits are reported too (info): pages truncated at ``crawl.max_page_bytes``
(after decompression) or parsed only in part (``links.page_truncated``), and links left
unchecked by ``crawl.max_links_per_page`` or ``crawl.max_targets`` (``links.not_checked``),
from the one CRAWL_LIMITS row the crawler stores among the checks.

Links that go nowhere (``href=""``/``#``/``javascript:void(0)`` on 更多, 详情, a document
title …) are read from each page's HTML (``links.empty``; see audits/links_empty.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditPlugin, Finding, RuleSpec, Severity
from audits.links_empty import empty_links
from core.snapshot import (
    CRAWL_LIMITS_METHOD,
    STATUS_TEXT,
    Link,
    LinkCheck,
    Page,
    SiteSnapshot,
    StatusKind,
)

REG_INDICATORS = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》"
REG_GUIDE = "国办发〔2017〕47号《政府网站发展指引》"


class LinksOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_external: bool = Field(True, description="Report broken links to other sites too")
    max_findings_per_target: int = Field(
        500, ge=1, description="At most this many pages listed for one broken target"
    )
    report_empty: bool = Field(
        True, description="Report links whose text promises a destination but that go nowhere"
    )
    max_empty_listed: int = Field(20, ge=1, description="Empty links listed per page at most")


_RULE_OF: dict[StatusKind, str] = {
    StatusKind.HTTP_ERROR: "links.broken",
    StatusKind.DNS_FAILURE: "links.broken",
    StatusKind.CONNECTION_REFUSED: "links.broken",
    StatusKind.CONNECTION_RESET: "links.broken",
    StatusKind.TLS_ERROR: "links.broken",
    StatusKind.ERROR: "links.broken",
    StatusKind.PRIVATE_ADDRESS: "links.broken",
    StatusKind.TIMEOUT: "links.timeout",
    StatusKind.REDIRECT_LOOP: "links.redirect_loop",
    StatusKind.TOO_MANY_REDIRECTS: "links.redirect_loop",
    StatusKind.BLOCKED: "links.blocked",
}

_TAG_ZH = {
    "a": "链接",
    "area": "热区链接",
    "img": "图片",
    "script": "脚本",
    "link": "样式/资源",
    "iframe": "内嵌框架",
    "frame": "框架",
    "meta": "页面跳转",
    "source": "媒体",
    "video": "视频",
    "audio": "音频",
    "embed": "嵌入对象",
    "object": "嵌入对象",
}


class LinksAudit(AuditPlugin):
    name = "links"
    title = "链接可用性检查"
    Options = LinksOptions
    rules = [
        RuleSpec(
            id="links.broken",
            title="链接无法访问（错链、断链）",
            severity=Severity.ERROR,
            regulation=f"{REG_INDICATORS}：首页及其他页面不可用链接；{REG_GUIDE}",
            advice="修正或删除失效链接：核对地址是否正确，目标页面或附件已删除、迁移的，"
            "更新为新地址或撤下链接；外部网站失效的，改链至有效页面。",
            unit="信息中心",
            category="链接可用性",
            description="页面上的链接、图片或附件返回错误（如404、500）、域名无法解析、连接被拒绝或中断，"
            "或指向内网、本机等非公网地址（private_address，未访问）。",
        ),
        RuleSpec(
            id="links.timeout",
            title="链接访问超时",
            severity=Severity.ERROR,
            regulation=f"{REG_INDICATORS}：超过15秒无法打开视为不可用",
            advice="确认目标服务器是否正常运行、带宽是否充足；长期无法访问的外部链接应改链或删除。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.redirect_loop",
            title="链接重定向循环或跳转过多",
            severity=Severity.ERROR,
            regulation=f"{REG_INDICATORS}：不可用链接",
            advice="检查服务器或内容管理系统的跳转规则，消除循环跳转，并将链接直接指向最终地址。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.soft_404",
            title="页面不存在但未返回404（软404）",
            severity=Severity.WARNING,
            regulation=f"{REG_GUIDE}：网站应设置统一的404错误页面并返回正确状态码；{REG_INDICATORS}",
            advice="删除或更正指向已失效内容的链接；配置服务器对不存在的页面返回404状态码，"
            "以便检查工具和搜索引擎识别失效链接。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.blocked",
            title="链接被防护策略拦截，无法检测",
            severity=Severity.INFO,
            regulation=REG_INDICATORS,
            advice="目标网站的防火墙或访问频率限制拒绝了检测请求（403/429/验证码），"
            "请人工打开该链接复核；若为本单位网站，可将检查工具加入白名单。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.not_checked",
            title="链接数量超出检查上限，部分链接未检测",
            severity=Severity.INFO,
            regulation=REG_INDICATORS,
            advice="单个页面或整站的链接数量超出检查上限（crawl.max_links_per_page、"
            "crawl.max_targets），超出部分未检测。请核实页面是否异常（如自动生成的大量链接），"
            "确需全部检测时调高上限。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.page_truncated",
            title="页面过大或结构异常，仅检查了部分内容",
            severity=Severity.INFO,
            regulation=REG_GUIDE,
            advice="页面超过大小上限（crawl.max_page_bytes，按解压后计算）被截断，或标签嵌套过深"
            "只能解析一部分，页面后部的内容和链接可能未被检查。请检查页面是否异常"
            "（如压缩炸弹、模板错误导致的标签未闭合），并精简页面。",
            unit="信息中心",
            category="链接可用性",
        ),
        RuleSpec(
            id="links.empty",
            title="链接无实际地址（空链接）",
            severity=Severity.WARNING,
            regulation=f"{REG_INDICATORS}：不可用链接；{REG_GUIDE}",
            advice="为“更多”“详情”“下载”及文章标题等链接填写实际地址（栏目页、详情页或附件），"
            "暂无内容的应撤下链接；由脚本处理的按钮请改用<button>或补充无脚本时可用的地址。",
            unit="信息中心",
            category="链接可用性",
            description="链接文字表明有去处（更多、详情、下载、查看、阅读全文、文章标题等），"
            '但地址为空（href=""）、“#”或javascript:void(0)，点击后停留在本页。'
            "切换标签页、展开菜单、分享等由脚本处理的控件不在此列。",
        ),
    ]

    def check_page(self, page: Page) -> Iterable[Finding]:
        """links.empty: one finding per page, listing its links that go nowhere."""
        if not self.options.report_empty or not page.html:
            return
        found, total = empty_links(page.html, self.options.max_empty_listed)
        if not total:
            return
        where = page.final_url or page.url
        shown = "、".join(f"“{e.text[:30]}”" for e in found[:5])
        more = f"等{total}个链接" if total > 1 else "链接"
        yield Finding(
            rule="links.empty",
            url=where,
            page=where,
            key="empty",
            message=f"页面上的{shown}{more}没有实际地址（空链接、“#”或javascript:），点击后无法到达相应内容。",
            evidence={
                "count": total,
                "text": found[0].text,
                "href": found[0].href,
                "links": [{"text": e.text, "href": e.href, "why": e.why} for e in found],
            },
        )

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home = snapshot.homepage_url
        counts: Counter[str] = Counter()
        broken_home = broken_other = 0
        for check in snapshot.checks():
            if check.method == "probe":
                yield from self._probe(check, home)
                continue
            if check.method == CRAWL_LIMITS_METHOD:
                yield from self._limits(check, home)
                continue
            key = check.status.kind.value
            if check.status.kind is StatusKind.HTTP_ERROR and check.status.code:
                key = f"http_{check.status.code}"
            counts[key] += 1
            rule = _RULE_OF.get(check.status.kind)
            if rule is None and check.soft_404 and check.status.is_ok:
                rule = "links.soft_404"
                counts["soft_404"] += 1
            if rule is None:
                continue
            sources = snapshot.links_to(check.url)
            if not sources and check.url != home:
                continue  # a start URL or a redirect hop nobody links to
            if not self.options.report_external and sources and not sources[0].internal:
                continue
            seen: set[str] = set()
            for link in sources[: self.options.max_findings_per_target]:
                if link.source in seen:
                    continue
                seen.add(link.source)
                on_home = link.source == home
                if rule == "links.broken":
                    if on_home:
                        broken_home += 1
                    else:
                        broken_other += 1
                yield self._finding(rule, check, link, on_home)
        self.ctx.site_data["links.broken_homepage"] = broken_home
        self.ctx.site_data["links.broken_other"] = broken_other
        self.ctx.site_data["links.table"] = {
            "title": "链接检测结果统计",
            "columns": ["结果", "数量"],
            "rows": [[_kind_label(k), n] for k, n in sorted(counts.items(), key=lambda kv: -kv[1])],
        }

    def _finding(self, rule: str, check: LinkCheck, link: Link, on_home: bool) -> Finding:
        status = check.status
        what = _TAG_ZH.get(link.tag, "链接")
        text = link.text or link.raw or check.url
        where = "首页" if on_home else "页面"
        if rule == "links.soft_404":
            outcome = "返回200但内容显示“页面不存在”"
        else:
            outcome = status.describe()
        message = f"{where}上的{what}“{text[:60]}”无法正常访问：{outcome}。"
        if rule == "links.blocked":
            message = (
                f"{where}上的{what}“{text[:60]}”被目标网站拦截，未能检测（{outcome}），请人工复核。"
            )
        return Finding(
            rule=rule,
            url=check.url,
            page=link.source,
            message=message,
            key=status.kind.value,
            evidence={
                "kind": status.kind.value,
                "code": status.code,
                "detail": status.detail,
                "redirects": [[c, u] for c, u in check.redirects],
                "final_url": check.final_url,
                "tag": link.tag,
                "text": link.text,
                "raw": link.raw,
                "internal": link.internal,
                "on_homepage": on_home,
                "elapsed_ms": check.elapsed_ms,
                "method": check.method,
                "hint": status.hint,
            },
        )

    def _limits(self, check: LinkCheck, home: str) -> Iterable[Finding]:
        """links.not_checked and links.page_truncated from the crawler's limits record."""
        try:
            limits: dict[str, Any] = json.loads(check.status.detail or "{}")
        except ValueError:
            return
        per_page = limits.get("max_links_per_page")
        for page, found, kept in limits.get("capped", []):
            yield Finding(
                rule="links.not_checked",
                url=page,
                page=page,
                key="max_links_per_page",
                message=f"页面上约有{found}个链接，超出单页检查上限{per_page}个，"
                f"只检测了前{kept}个，其余约{found - kept}个未检测。",
                evidence={
                    "limit": "crawl.max_links_per_page",
                    "cap": per_page,
                    "links_found": found,
                    "links_checked": kept,
                    "links_not_checked": found - kept,
                },
            )
        over = int(limits.get("targets_not_checked") or 0)
        if over:
            cap = limits.get("max_targets")
            yield Finding(
                rule="links.not_checked",
                url=home,
                page=None,
                key="max_targets",
                message=f"全站链接目标超出本次检查上限{cap}个，另有{over}个链接目标未检测"
                f"（单页上限另计：{limits.get('pages_capped', 0)}个页面共约"
                f"{limits.get('links_not_taken', 0)}个链接未检测）。",
                evidence={
                    "limit": "crawl.max_targets",
                    "cap": cap,
                    "targets_not_checked": over,
                    "pages_capped": limits.get("pages_capped", 0),
                    "links_not_taken": limits.get("links_not_taken", 0),
                },
            )
        max_bytes = limits.get("max_page_bytes")
        for page, reason, received in limits.get("truncated", []):
            how = "解压后" if reason == "decompressed" else ""
            yield Finding(
                rule="links.page_truncated",
                url=page,
                page=page,
                key="size",
                message=f"页面{how}超过{max_bytes}字节的大小上限，只检查了前{max_bytes}字节，"
                "其后的内容和链接未检查。",
                evidence={
                    "reason": reason,
                    "limit": "crawl.max_page_bytes",
                    "cap": max_bytes,
                    "bytes_received": received,
                },
            )
        for page, reason in limits.get("partial", []):
            what = "标签嵌套过深" if reason == "depth" else "页面结构错误"
            yield Finding(
                rule="links.page_truncated",
                url=page,
                page=page,
                key="parse",
                message=f"页面{what}，HTML只能解析一部分；链接已逐一查找并检测，"
                "但标题、正文等其他检查只覆盖了解析出的部分。",
                evidence={"reason": reason},
            )

    def _probe(self, check: LinkCheck, home: str) -> Iterable[Finding]:
        if not (check.status.is_ok and check.soft_404):
            return
        yield Finding(
            rule="links.soft_404",
            url=check.url,
            page=None,
            key="probe",
            message="网站对不存在的页面返回200状态码（未设置标准404页面），"
            "失效链接无法被识别，检查工具会漏报错链。",
            evidence={
                "kind": "probe",
                "code": check.status.code,
                "final_url": check.final_url,
                "redirects": [[c, u] for c, u in check.redirects],
                "method": check.method,
                "homepage": home,
            },
        )


def _kind_label(key: str) -> str:
    if key.startswith("http_"):
        return f"HTTP错误 {key[5:]}"
    if key == "soft_404":
        return "软404"
    try:
        return STATUS_TEXT[StatusKind(key)][0]
    except ValueError:
        return key
