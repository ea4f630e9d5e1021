"""Page identity: 网站标识码, the footer's required items and the 我为政府网站找错 entry.

政府网站发展指引（国办发〔2017〕47号）asks every page to carry the site identity code
(``SiteIDCode`` meta and the footer), the sponsor (主办单位), ICP and public-security
record numbers, contact details, and the "我为政府网站找错" entry. Each rule is reported
once per site, listing the pages affected (capped), not once per page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditContext, AuditPlugin, Finding, RuleSpec, Severity
from audits.pageinfo import FOOTER, compact, parse_page
from core.snapshot import Page, SiteSnapshot

REG_47 = "政府网站发展指引（国办发〔2017〕47号）"
_RE_SITE_ID = re.compile(r"网站标识码\s*[:：]?\s*([0-9A-Za-z]{6,12})")


def _footer_items() -> dict[str, list[str]]:
    return {
        "主办单位": [r"主办单位", r"主办\s*[:：]", r"主\s*办\s*[:：]"],
        "ICP备案号": [r"ICP\s*备", r"ICP\s*证"],
        "公安机关备案号": [r"公网安备", r"公安备案", r"公安机关备案"],
        "联系方式": [r"电话", r"联系方式", r"联系我们", r"邮箱", r"E-?mail", r"Tel", r"传真"],
    }


class IdentityOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    footer_items: dict[str, list[str]] = Field(
        default_factory=_footer_items,
        description="Footer item → regexes, any of which shows the item is present",
    )
    error_report_patterns: list[str] = Field(
        default_factory=lambda: ["我为政府网站找错", "zfwzgl.www.gov.cn", "jiucuo", "找错"],
        description="Text, image alt or link address that marks the 找错 entry",
    )
    max_pages_listed: int = Field(50, ge=1, description="Affected pages listed per finding")
    footer_fallback_chars: int = Field(
        1500, ge=0, description="Without a marked footer, the page's last N characters are used"
    )


class IdentityAudit(AuditPlugin):
    name = "identity"
    title = "网站标识与页脚信息"
    Options = IdentityOptions
    rules = [
        RuleSpec(
            id="identity.site_id_missing",
            title="页面缺少网站标识码",
            severity=Severity.WARNING,
            regulation=REG_47 + " 网站标识码",
            advice='在页脚标注网站标识码，并在页面<head>中加入<meta name="SiteIDCode" content="…">。',
            unit="信息中心",
            category="网站标识",
        ),
        RuleSpec(
            id="identity.site_id_mismatch",
            title="页面元数据与页脚的网站标识码不一致",
            severity=Severity.ERROR,
            regulation=REG_47 + " 网站标识码",
            advice="核对全国政府网站基本信息数据库中的网站标识码，统一页脚与SiteIDCode元数据。",
            unit="信息中心",
            category="网站标识",
        ),
        RuleSpec(
            id="identity.footer_incomplete",
            title="页脚信息不完整",
            severity=Severity.WARNING,
            regulation=REG_47 + " 页脚应标注主办单位、ICP备案号、公安机关备案号、联系方式",
            advice="在网站统一页脚补齐主办单位、ICP备案号、公安机关备案号和联系方式。",
            unit="信息中心",
            category="网站标识",
        ),
        RuleSpec(
            id="identity.error_report_entry_missing",
            title="缺少“我为政府网站找错”入口",
            severity=Severity.INFO,
            regulation=REG_47 + "；国务院办公厅政府网站“我为政府网站找错”监督平台",
            advice="在页脚放置“我为政府网站找错”入口，链接到全国政府网站找错平台。",
            unit="信息中心",
            category="网站标识",
        ),
    ]

    def __init__(self, options: BaseModel, context: AuditContext) -> None:
        super().__init__(options, context)
        self.options: IdentityOptions = options  # type: ignore[assignment]
        self.items = {
            name: [re.compile(p, re.IGNORECASE) for p in patterns]
            for name, patterns in self.options.footer_items.items()
        }
        self.entry_patterns = [p.lower() for p in self.options.error_report_patterns]
        self.pages = 0
        self.no_id: list[str] = []
        self.mismatch: list[dict[str, str]] = []
        self.incomplete: list[dict[str, object]] = []
        self.missing_counts: dict[str, int] = {}
        self.no_entry: list[str] = []
        self.unchecked: list[str] = []
        self.any_item = [rx for rxs in self.items.values() for rx in rxs] + [_RE_SITE_ID]

    def check_page(self, page: Page) -> Iterable[Finding]:
        info = parse_page(page, self.ctx.today)
        if info is None:
            return ()
        url = info.final_url
        footer = info.footer_text
        if not footer:
            footer = compact(info.main_text)[-self.options.footer_fallback_chars :]
            if info.body_scripts and not any(rx.search(footer) for rx in self.any_item):
                # no footer in the HTML, and scripts that may write it (not rendered):
                # cannot judge this page
                self.unchecked.append(url)
                return ()
        self.pages += 1
        meta_id = (info.meta.get("siteidcode") or "").strip()
        m = _RE_SITE_ID.search(footer)
        footer_id = m.group(1) if m else ""
        if not meta_id and not footer_id:
            self.no_id.append(url)
        elif meta_id and footer_id and meta_id.lower() != footer_id.lower():
            self.mismatch.append({"url": url, "meta": meta_id, "footer": footer_id})
        missing = [
            name for name, rxs in self.items.items() if not any(rx.search(footer) for rx in rxs)
        ]
        if missing:
            self.incomplete.append({"url": url, "missing": missing})
            for name in missing:
                self.missing_counts[name] = self.missing_counts.get(name, 0) + 1
        marks = [a.text for a in info.anchors if a.zone == FOOTER or not info.footer_text]
        marks += [a.href for a in info.anchors]
        marks += info.img_alts + [footer]
        hay = " ".join(marks).lower()
        if not any(p in hay for p in self.entry_patterns):
            self.no_entry.append(url)
        return ()

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        home = snapshot.homepage_url
        cap = self.options.max_pages_listed
        total = self.pages
        out: list[Finding] = []

        def scope(n: int) -> str:
            return "全部" if n == total else f"{total}个中的"

        if self.no_id:
            out.append(
                Finding(
                    rule="identity.site_id_missing",
                    url=home,
                    message=f"{scope(len(self.no_id))}{len(self.no_id)}个页面的页脚和SiteIDCode元数据均未标注网站标识码，如 {self.no_id[0]}",
                    evidence={"count": len(self.no_id), "pages": self.no_id[:cap]},
                )
            )
        if self.mismatch:
            first = self.mismatch[0]
            out.append(
                Finding(
                    rule="identity.site_id_mismatch",
                    url=home,
                    message=(
                        f"{len(self.mismatch)}个页面的SiteIDCode元数据与页脚网站标识码不一致"
                        f"（如 {first['url']}：元数据 {first['meta']}，页脚 {first['footer']}）"
                    ),
                    evidence={
                        "count": len(self.mismatch),
                        "pages": self.mismatch[:cap],
                        "meta_values": sorted({m["meta"] for m in self.mismatch}),
                        "footer_values": sorted({m["footer"] for m in self.mismatch}),
                    },
                )
            )
        if self.incomplete:
            names = [n for n in self.items if n in self.missing_counts]
            out.append(
                Finding(
                    rule="identity.footer_incomplete",
                    url=home,
                    message=(
                        f"{scope(len(self.incomplete))}{len(self.incomplete)}个页面的页脚缺少"
                        + "、".join(f"{n}（{self.missing_counts[n]}页）" for n in names)
                        + f"，如 {self.incomplete[0]['url']}"
                    ),
                    evidence={
                        "missing": names,
                        "missing_counts": {n: self.missing_counts[n] for n in names},
                        "count": len(self.incomplete),
                        "pages": self.incomplete[:cap],
                    },
                )
            )
        if self.no_entry:
            out.append(
                Finding(
                    rule="identity.error_report_entry_missing",
                    url=home,
                    message=f"{scope(len(self.no_entry))}{len(self.no_entry)}个页面没有“我为政府网站找错”入口，如 {self.no_entry[0]}",
                    evidence={"count": len(self.no_entry), "pages": self.no_entry[:cap]},
                )
            )
        self.ctx.site_data["identity.pages_checked"] = total
        self.ctx.site_data["identity.pages_unchecked"] = len(self.unchecked)
        if self.unchecked:
            self.ctx.progress(
                f"identity: {len(self.unchecked)} page(s) have no footer in their HTML "
                "(written by scripts?) and were not checked"
            )
        return out
