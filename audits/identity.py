"""Page identity: 网站标识码, the footer's required items and the 我为政府网站找错 entry.

政府网站发展指引（国办发〔2017〕47号）asks every page to carry the site identity code
(``SiteIDCode`` meta and the footer), the sponsor (主办单位), ICP and public-security
record numbers, contact details, and the "我为政府网站找错" entry. Each rule is reported
once per site, listing the pages affected (capped), not once per page. Framed documents
(iframe includes, see audits.frames) are read as part of the pages that embed them.
Knows nothing of crawling or storage; reads PageInfo and the snapshot's links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from audits.base import AuditContext, AuditPlugin, Finding, RuleSpec, Severity
from audits.frames import Frames, frames
from audits.pageinfo import FOOTER, compact, parse_site_page
from core.snapshot import Page, SiteSnapshot

REG_47 = "政府网站发展指引（国办发〔2017〕47号）"
_RE_SITE_ID = re.compile(r"网站标识码\s*[:：]?\s*([0-9A-Za-z]{6,12})")
_RE_COMMENT = re.compile(r"<!--.*?-->", re.S)
# The official 找错 widget: <script id="_jiucuo_" sitecode=… src=…/exposure/jiucuo.js>,
# <span id="_span_jiucuo">, <img src=…/exposure/images/jiucuo.png onclick="Link('…')">,
# links to …/exposure/jiucuo.html?site_code=…; saved copies rename files (jiucuo.js.下载).
_RE_WIDGET = re.compile(
    r"_jiucuo_|_span_jiucuo|jiucuo\.(?:js|png|gif|jpe?g|html?)|/exposure/(?:jiucuo|images)", re.I
)
_RE_WIDGET_CODE = re.compile(
    r"""\bsitecode\s*=\s*["']?([0-9A-Za-z]{6,12})"""
    r"""|\bLink\(\s*(?:&#39;|&quot;|["'])?\s*([0-9A-Za-z]{6,12})"""
    r"""|jiucuo[^"'>\s]*?[?&](?:site_?code|v)=([0-9A-Za-z]{6,12})""",
    re.I,
)
_REFRESH_STUB = re.compile(r"<meta[^>]+http-equiv\s*=\s*[\"']?refresh", re.I)
_WIDGET_TAGS = ("script", "span", "img", "a", "div", "p", "input", "area", "iframe")


_ORGAN = r"(?:委员会|人民政府|政府|办公室|办公厅|局|厅|委|部|署|院|中心|管委会)"


def _footer_items() -> dict[str, list[str]]:
    return {
        "主办单位": [
            r"主办单位",
            r"主办(?:方|机关|部门)",
            r"主办\s*[:：]",
            r"主\s*办\s*[:：]",
            # The organ named as the copyright holder names the sponsor (浙江省发改委's footer:
            # "中国·浙江省发展和改革委员会 版权所有"); a bare "版权所有 ©2024" does not.
            _ORGAN + r"\s*版权所有",
            r"版权所有\s*[:：]?\s*(?:©|\(c\))?\s*[\u4e00-\u9fff·（）()]{2,30}?" + _ORGAN,
        ],
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
        description="Text, image alt or link address that marks the 找错 entry "
        "(the official widget's script, span and image are recognised besides these)",
    )
    max_pages_listed: int = Field(50, ge=1, description="Affected pages listed per finding")
    footer_fallback_chars: int = Field(
        1500, ge=0, description="Without a marked footer, the page's last N characters are used"
    )


def error_report_widget(html: str) -> tuple[bool, list[str]]:
    """Whether the HTML holds the official 找错 widget, and the site codes it names.

    Markup inside HTML comments does not count. Codes come from the script's ``sitecode``,
    the image's ``Link('…')`` or ``?v=…``, or a link's ``site_code=…``.
    """
    text = _RE_COMMENT.sub(" ", html)
    found = False
    codes: list[str] = []
    for m in _RE_WIDGET.finditer(text):
        start = text.rfind("<", 0, m.start())
        if start < 0 or text.rfind(">", start, m.start()) >= 0:
            continue  # the marker is in text, not inside a tag's attributes
        tag = re.match(r"<\s*([a-zA-Z]+)", text[start : start + 12])
        if not tag or tag.group(1).lower() not in _WIDGET_TAGS:
            continue
        end = text.find(">", m.end())
        found = True
        for c in _RE_WIDGET_CODE.finditer(text[start : end if end > 0 else m.end() + 300]):
            code = next(g for g in c.groups() if g)
            if code not in codes:
                codes.append(code)
    return found, codes


@dataclass
class _Facts:
    """What one page (or framed document) shows of its identity."""

    url: str
    meta_id: str = ""
    footer_ids: list[str] = field(default_factory=list)
    found: set[str] = field(default_factory=set)  # footer items present
    entry: bool = False
    widget_codes: list[str] = field(default_factory=list)
    unchecked: bool = False  # no footer in the HTML and scripts that may write it

    def merge(self, other: _Facts) -> None:
        """Add a framed document's facts to its parent's."""
        self.meta_id = self.meta_id or other.meta_id
        self.footer_ids += [c for c in other.footer_ids if c not in self.footer_ids]
        self.found |= other.found
        self.entry = self.entry or other.entry
        self.widget_codes += [c for c in other.widget_codes if c not in self.widget_codes]
        self.unchecked = self.unchecked and other.unchecked


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
        RuleSpec(
            id="identity.error_report_code_mismatch",
            title="“我为政府网站找错”入口的网站标识码与本站不一致",
            severity=Severity.WARNING,
            regulation=REG_47 + "；国务院办公厅政府网站“我为政府网站找错”监督平台",
            advice="找错入口脚本（id=\"_jiucuo_\"）的sitecode属性和图片的Link('…')参数应填写本站的"
            "网站标识码；填写其他网站的标识码时，网民提交的错误会转给其他网站。"
            "请按全国政府网站基本信息数据库中的本站标识码改正。",
            unit="信息中心",
            category="网站标识",
        ),
        RuleSpec(
            id="identity.not_checked",
            title="页脚由脚本生成，网站标识未能检查",
            severity=Severity.INFO,
            regulation=REG_47,
            advice="页面HTML中没有页脚，页脚可能由脚本写入；请开启浏览器渲染"
            "（crawl.render）后重新检查，或人工核对这些页面的页脚。",
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
        self.code_mismatch: list[dict[str, str]] = []
        self.incomplete: list[dict[str, object]] = []
        self.missing_counts: dict[str, int] = {}
        self.no_entry: list[str] = []
        self.unchecked: list[str] = []
        self.any_item = [rx for rxs in self.items.values() for rx in rxs] + [_RE_SITE_ID]
        self._frames: Frames | None = None
        self.framed: dict[str, _Facts] = {}  # framed documents, by URL
        self.waiting: list[tuple[_Facts, list[str]]] = []  # pages with frames, and their frames
        self.framed_skipped = 0

    def frames(self) -> Frames:
        if self._frames is None:
            self._frames = frames(self.ctx.snapshot)
        return self._frames

    def check_page(self, page: Page) -> Iterable[Finding]:
        fr = self.frames()
        framed = fr.is_framed(page)
        facts = self._read(page, framed)
        if facts is None:
            return ()
        if framed:
            for url in {page.url, page.final_url}:
                self.framed[url] = facts
            return ()
        children = fr.frames_of(page)
        if children:
            self.waiting.append((facts, children))  # its frames may come later in the crawl
        else:
            self._judge(facts)
        return ()

    def _read(self, page: Page, framed: bool = False) -> _Facts | None:
        info = parse_site_page(page, self.ctx)
        if info is None:
            return None
        if _REFRESH_STUB.search(page.html or "") and len(compact(info.main_text)) < 40:
            return None  # a <meta http-equiv="refresh"> stub is a redirect, not a page
        facts = _Facts(url=info.final_url, meta_id=(info.meta.get("siteidcode") or "").strip())
        footer = info.footer_text
        if framed:
            # an include is chrome as a whole: its marked footer and the end of its text
            tail = compact(info.main_text)[-self.options.footer_fallback_chars :]
            footer = f"{footer} {tail}".strip()
        if not footer:
            footer = compact(info.main_text)[-self.options.footer_fallback_chars :]
            # no footer in the HTML, and scripts that may write it (not rendered)
            facts.unchecked = bool(info.body_scripts) and not any(
                rx.search(footer) for rx in self.any_item
            )
        facts.footer_ids = list(dict.fromkeys(m.group(1) for m in _RE_SITE_ID.finditer(footer)))
        facts.found = {
            name for name, rxs in self.items.items() if any(rx.search(footer) for rx in rxs)
        }
        widget, codes = error_report_widget(page.html or "")
        marks = [a.text for a in info.anchors if a.zone == FOOTER or not info.footer_text]
        marks += [a.href for a in info.anchors]
        marks += info.img_alts + [footer]
        hay = " ".join(marks).lower()
        facts.entry = widget or any(p in hay for p in self.entry_patterns)
        facts.widget_codes = codes
        return facts

    def _judge(self, facts: _Facts) -> None:
        url = facts.url
        if facts.unchecked:
            self.unchecked.append(url)
            return
        self.pages += 1
        meta_id, footer_id = facts.meta_id, facts.footer_ids[0] if facts.footer_ids else ""
        if not meta_id and not footer_id:
            self.no_id.append(url)
        elif meta_id and footer_id and meta_id.lower() != footer_id.lower():
            self.mismatch.append({"url": url, "meta": meta_id, "footer": footer_id})
        own = {c.lower() for c in [meta_id, *facts.footer_ids] if c}
        if own:
            for code in facts.widget_codes:
                if code.lower() not in own:
                    self.code_mismatch.append(
                        {
                            "url": url,
                            "error_report_code": code,
                            "site_id_code": meta_id or footer_id,
                            "site_id_source": "meta" if meta_id else "footer",
                        }
                    )
                    break
        missing = [name for name in self.items if name not in facts.found]
        if missing:
            self.incomplete.append({"url": url, "missing": missing})
            for name in missing:
                self.missing_counts[name] = self.missing_counts.get(name, 0) + 1
        if not facts.entry:
            self.no_entry.append(url)

    def _merged(self, facts: _Facts, children: list[str], seen: set[str]) -> _Facts:
        """A page's facts with those of its framed documents (nested frames too)."""
        for url in children:
            if url in seen or url not in self.framed:
                continue
            seen.add(url)
            facts.merge(self._merged(self.framed[url], self.frames().frames_of(url), seen))
        return facts

    def check_site(self, snapshot: SiteSnapshot) -> Iterable[Finding]:
        for facts, children in self.waiting:
            self._judge(self._merged(facts, children, {facts.url}))
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
        if self.code_mismatch:
            first = self.code_mismatch[0]
            out.append(
                Finding(
                    rule="identity.error_report_code_mismatch",
                    url=home,
                    message=(
                        f"{len(self.code_mismatch)}个页面的“我为政府网站找错”入口使用的网站标识码"
                        f"{first['error_report_code']}与本站网站标识码{first['site_id_code']}不一致，"
                        f"网民提交的错误将转到其他网站，如 {first['url']}"
                    ),
                    evidence={
                        "count": len(self.code_mismatch),
                        "error_report_code": first["error_report_code"],
                        "site_id_code": first["site_id_code"],
                        "error_report_codes": sorted(
                            {m["error_report_code"] for m in self.code_mismatch}
                        ),
                        "site_id_codes": sorted({m["site_id_code"] for m in self.code_mismatch}),
                        "pages": self.code_mismatch[:cap],
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
        if self.unchecked:
            out.append(
                Finding(
                    rule="identity.not_checked",
                    url=home,
                    message=(
                        f"{len(self.unchecked)}个页面的HTML中没有页脚（可能由脚本生成，未经浏览器渲染），"
                        f"未能检查网站标识码、页脚信息和找错入口，如 {self.unchecked[0]}"
                    ),
                    evidence={
                        "rule": "identity.footer_incomplete",
                        "rules": [
                            "identity.site_id_missing",
                            "identity.footer_incomplete",
                            "identity.error_report_entry_missing",
                        ],
                        "reason": "页脚由脚本生成，页面未经浏览器渲染",
                        "count": len(self.unchecked),
                        "pages": self.unchecked[:cap],
                    },
                )
            )
        self.ctx.site_data["identity.pages_checked"] = total
        self.ctx.site_data["identity.pages_unchecked"] = len(self.unchecked)
        self.ctx.site_data["identity.framed_documents"] = len({f.url for f in self.framed.values()})
        return out
