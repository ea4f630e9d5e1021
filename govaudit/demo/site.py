"""The demo bureau's website: content, layout and planted defects, generated from data.

临川市自然资源和规划局 is fictional. Every date on the site is an offset from ``anchor``, so
the same audit gives the same findings whatever day it runs. ``revision`` 2 fixes some
defects and adds one; revisions 3 and 4 are "neglected site" variants of revision 1 that
plant the disclosure rules revisions 1/2 must pass (see EXPECTED.md). Nothing here touches the network: the HTTP and DNS
servers live in server.py and dnsserver.py; this module maps (host, path, query) to a reply.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import parse_qs

from govaudit.demo import files

SITE_NAME = "临川市自然资源和规划局"
SITE_ID = "3610000049"
WRONG_SITE_ID = "3610000012"
ICP = "赣ICP备05012345号-1"
PSB = "赣公网安备 36100202000123号"

WWW = "www.lcnr.gov.cn"
STATIC = "static.lcnr.gov.cn"  # IPv4-only image host (A, no AAAA)
ZWFW = "zwfw.lcnr.gov.cn"  # AAAA ::1 but its server listens on 127.0.0.1 only
MOBILE = "m.lcnr.gov.cn"  # different content over IPv6
GIS = "gis.lcnr.gov.cn"  # resolves, nothing listens on its port (connection refused)
PARTNER = "www.lcs.gov.cn"  # the city government's portal: an external site
INVALID = "www.lcgtj.invalid"  # the old bureau site: DNS failure
ZONE = "lcnr.gov.cn"
NS1 = "ns1.lcnr.gov.cn"  # A + AAAA, answers on ::1
NS2 = "ns2.lcnr.gov.cn"  # A only → fewer than two name servers with IPv6


@dataclass
class Reply:
    """What the HTTP server sends for one request."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (the server cuts it short on stop)
    hang: bool = False  # never answer (until the server stops)


@dataclass
class Ports:
    www: int  # www, static, m and the partner host share this dual-stack port
    zwfw: int  # IPv4-only server of zwfw.lcnr.gov.cn
    refused: int  # bound on 127.0.0.1 without listen(): connection refused


@dataclass
class Entry:
    title: str
    path: str
    day: date | None
    body: str = ""  # HTML of the article body
    source: str = "临川市自然资源和规划局"
    page_kind: str = "article"


@dataclass
class Column:
    path: str
    name: str
    ctype: str
    fmt: str | None  # date format in the list; None = no dates shown
    entries: list[Entry] = field(default_factory=list)
    parent: str | None = None
    per_page: int = 10
    intro: str = ""
    charset: str = "utf-8"  # "gbk": the list page is GBK bytes, declared correctly


# ---------------------------------------------------------------- dates


def cn_numeral_date(d: date) -> str:
    """二〇二六年十一月二日"""
    digits = "〇一二三四五六七八九"

    def small(n: int) -> str:
        if n < 10:
            return digits[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")

    return "".join(digits[int(c)] for c in str(d.year)) + f"年{small(d.month)}月{small(d.day)}日"


def fmt_date(d: date | None, fmt: str | None) -> str:
    if d is None or fmt is None:
        return ""
    return {
        "iso": f"{d:%Y-%m-%d}",
        "md": f"[{d:%m-%d}]",
        "cn": f"{d.year}年{d.month}月{d.day}日",
        "slash": f"{d.year}/{d.month}/{d.day}",
        "dot": f"{d:%Y.%m.%d}",
    }[fmt]


def is_workday(d: date) -> bool:
    try:
        import chinese_calendar

        return bool(chinese_calendar.is_workday(d))
    except (ImportError, NotImplementedError):
        return d.weekday() < 5


def plain_monday(before: date) -> date:
    """A Monday on or before ``before`` whose next three weeks hold no holiday or swapped
    working day, so every working-day calendar (official or Mon–Fri) agrees on them."""
    d = before - timedelta(days=before.weekday())
    for _ in range(60):
        if all(
            is_workday(d + timedelta(i)) == ((d + timedelta(i)).weekday() < 5) for i in range(21)
        ):
            return d
        d -= timedelta(days=7)
    return d


def add_workdays(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        if is_workday(d):
            n -= 1
    return d


def _e(text: str) -> str:
    return html.escape(text, quote=True)


CSS = """
body{margin:0;font:16px/1.7 "Microsoft YaHei","PingFang SC",sans-serif;color:#222;background:#fff}
a{color:#0b4f8a}
.skip{position:absolute;left:-9999px;top:0;background:#0b4f8a;color:#fff;padding:4px 8px}
.skip:focus{left:8px}
.top{background:#f2f5f8;color:#333;font-size:14px;padding:4px 24px}
.brand{display:flex;align-items:center;gap:16px;padding:12px 24px}
.brand .name{font-size:26px;font-weight:bold;color:#0b4f8a}
.search{margin-left:auto}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;color:#222;background:#fff}
nav.main{background:#0b4f8a}
nav.main ul{list-style:none;margin:0;padding:0 16px;display:flex;flex-wrap:wrap}
nav.main a{display:block;color:#fff;text-decoration:none;padding:10px 14px}
main{padding:16px 24px;max-width:1100px}
.crumb{font-size:14px;color:#333}
.list li{margin:4px 0}
.date{color:#595959;margin-left:12px}
.info{color:#595959;font-size:14px}
.pages a{margin-right:8px}
.cols{display:flex;flex-wrap:wrap;gap:24px}
.cols section{flex:1 1 300px}
footer{background:#eef2f6;color:#333;font-size:14px;padding:12px 24px;margin-top:24px}
table.cal{border-collapse:collapse}
table.cal th,table.cal td{border:1px solid #999;padding:4px 8px;text-align:center}
"""

NAV = [
    ("首页", "/"),
    ("政府信息公开", "/zwgk/"),
    ("工作动态", "/xwzx/gzdt/"),
    ("基层动态", "/xwzx/jcdt/"),
    ("通知公告", "/tzgg/"),
    ("政策文件", "/zcwj/"),
    ("政策解读", "/zcjd/"),
    ("重点领域信息公开", "/zdly/"),
    ("会议公开", "/hygk/"),
    ("公众参与", "/gzcy/"),
    ("专题专栏", "/ztzl/"),
]


REVISIONS = (1, 2, 3, 4)


class DemoContent:
    """All pages of the demo site for one anchor date and revision."""

    def __init__(self, anchor: date, revision: int, ports: Ports) -> None:
        if revision not in REVISIONS:
            raise ValueError(f"revision must be 1, 2, 3 or 4, not {revision!r}")
        self.anchor = anchor
        self.revision = revision
        self.ports = ports
        self.columns: dict[str, Column] = {}
        self.pages: dict[str, Reply] = {}
        self.binaries: dict[str, Reply] = {}
        self.named: dict[str, str] = {}  # planted page name → path (expected.json's {p:NAME})
        self._build()

    # ------------------------------------------------------------ helpers

    @property
    def nav(self) -> list[tuple[str, str]]:
        """The main navigation. Revision 3 names the disclosure column 政务公开 (misnamed);
        revision 4 has no disclosure column nor any near-name (重点领域信息公开 → 重点领域)."""
        if self.revision == 3:
            return [("政务公开", p) if p == "/zwgk/" else (n, p) for n, p in NAV]
        if self.revision == 4:
            return [("重点领域", p) if p == "/zdly/" else (n, p) for n, p in NAV if p != "/zwgk/"]
        return NAV

    def url(self, host: str, path: str = "/") -> str:
        port = {ZWFW: self.ports.zwfw, GIS: self.ports.refused}.get(host, self.ports.www)
        return f"http://{host}{'' if port == 80 else f':{port}'}{path}"

    def ago(self, days: int) -> date:
        return self.anchor - timedelta(days=days)

    def art_path(self, col: str, d: date | None, n: int) -> str:
        if d is None:
            return f"{col}art_{1000 + n}.html"
        return f"{col}{d:%Y%m}/t{d:%Y%m%d}_{n}.html"

    def add_column(self, col: Column) -> Column:
        self.columns[col.path] = col
        return col

    # ------------------------------------------------------------ layout

    def layout(
        self,
        title: str,
        main: str,
        metas: dict[str, str] | None = None,
        crumbs: list[tuple[str, str]] | None = None,
        footer: str = "full",
        lang: bool = True,
        site_id_meta: str | None = SITE_ID,
        charset_meta: str | None = "utf-8",
        head_extra: str = "",
    ) -> str:
        meta_html = []
        if charset_meta:
            meta_html.append(f'<meta charset="{charset_meta}">')
        meta_html.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
        meta_html.append(f'<meta name="SiteName" content="{SITE_NAME}">')
        meta_html.append(f'<meta name="SiteDomain" content="{WWW}">')
        if site_id_meta:
            meta_html.append(f'<meta name="SiteIDCode" content="{site_id_meta}">')
        for k, v in (metas or {}).items():
            meta_html.append(f'<meta name="{k}" content="{_e(v)}">')
        nav = "".join(f'<li><a href="{p}">{n}</a></li>' for n, p in self.nav)
        crumb_html = ""
        if crumbs:
            parts = ['<a href="/">首页</a>'] + [
                f'<a href="{p}">{_e(n)}</a>' if p else _e(n) for n, p in crumbs
            ]
            crumb_html = (
                f'<nav class="crumb" aria-label="当前位置">当前位置：{" &gt; ".join(parts)}</nav>'
            )
        lang_attr = ' lang="zh-CN"' if lang else ""
        return (
            f"<!DOCTYPE html>\n<html{lang_attr}>\n<head>\n{chr(10).join(meta_html)}\n"
            f"<title>{_e(title)} - {SITE_NAME}</title>\n"
            f'<link rel="stylesheet" href="/css/main.css">\n{head_extra}</head>\n<body>\n'
            f'<a class="skip" href="#main">跳到主要内容</a>\n<header>\n'
            f'<div class="top"><a href="{self.url(PARTNER)}">临川市人民政府</a>　'
            f'<a href="{self.url(MOBILE)}">手机版</a></div>\n'
            f'<div class="brand"><a href="/"><img src="/images/logo.png" width="120" height="40" '
            f'alt="临川市自然资源和规划局标志"></a><span class="name">{SITE_NAME}</span>'
            f'<form class="search" role="search" action="/search/"><label class="sr-only" for="kw">站内搜索</label>'
            f'<input id="kw" name="kw" type="search"><button type="submit">搜索</button></form></div>\n'
            f'<nav class="main" aria-label="主导航"><ul>{nav}</ul></nav>\n</header>\n'
            f'<main id="main">\n{crumb_html}\n{main}\n</main>\n{self.footer(footer)}\n</body>\n</html>\n'
        )

    def footer(self, variant: str) -> str:
        id_line = "" if variant == "legacy" else f"网站标识码：{SITE_ID}　"
        psb = "" if variant == "no_psb" else f"　{PSB}"
        # Revision 3: the footer lost the 我为政府网站找错 entry on every page.
        zc = "" if self.revision == 3 else '<a href="/zc/">我为政府网站找错</a>　'
        return (
            "<footer>\n"
            f'<p>{zc}<a href="/yqlj/">相关网站</a>　'
            '<a href="/lxwm/">联系我们</a></p>\n'
            f"<p>主办单位：{SITE_NAME}　地址：临川市赣东大道1号　邮编：344000</p>\n"
            '<p>联系电话：0794-8261234　电子邮箱：<a href="mailto:xxzx@lcnr.gov.cn">xxzx@lcnr.gov.cn</a>'
            '　<a href="tel:0794-8261234">拨打电话</a></p>\n'
            f"<p>{id_line}{ICP}{psb}</p>\n"
            f"<p>版权所有：{SITE_NAME}　{self.anchor.year}年</p>\n</footer>"
        )

    def footer_variant(self, path: str) -> str:
        # Planted: the 公众参与 section's template lost the 公安机关备案号.
        return "no_psb" if path.startswith("/gzcy/") else "full"

    def crumbs_for(self, col: Column) -> list[tuple[str, str]]:
        chain = []
        c: Column | None = col
        while c is not None:
            chain.append((c.name, c.path))
            c = self.columns.get(c.parent) if c.parent else None
        return list(reversed(chain))

    # ------------------------------------------------------------ column and article pages

    def column_metas(self, col: Column) -> dict[str, str]:
        return {
            "ColumnName": col.name,
            "ColumnDescription": col.intro or col.name,
            "ColumnKeywords": col.name,
            "ColumnType": col.ctype,
        }

    def list_html(self, entries: list[Entry], fmt: str | None) -> str:
        if not entries:
            return '<p class="empty">暂无信息</p>'
        items = []
        for e in entries:
            d = fmt_date(e.day, fmt)
            date_html = f'<span class="date">{d}</span>' if d else ""
            items.append(f'<li><a href="{e.path}">{_e(e.title)}</a>{date_html}</li>')
        return f'<ul class="list">{"".join(items)}</ul>'

    def render_column(self, col: Column) -> None:
        entries = sorted(col.entries, key=lambda e: e.day or date.min, reverse=True)
        chunks = [entries[i : i + col.per_page] for i in range(0, len(entries), col.per_page)] or [
            []
        ]
        subs = [c for c in self.columns.values() if c.parent == col.path]
        sub_html = ""
        if subs:
            sub_html = (
                '<nav aria-label="子栏目"><ul class="sub">'
                + "".join(f'<li><a href="{c.path}">{c.name}</a></li>' for c in subs)
                + "</ul></nav>"
            )
        for i, chunk in enumerate(chunks):
            path = col.path if i == 0 else f"{col.path}index_{i}.html"
            pager = ""
            if len(chunks) > 1:
                links = []
                for j in range(len(chunks)):
                    target = col.path if j == 0 else f"{col.path}index_{j}.html"
                    links.append(
                        f"<span>第{j + 1}页</span>"
                        if j == i
                        else f'<a href="{target}">第{j + 1}页</a>'
                    )
                if i + 1 < len(chunks):
                    links.append(f'<a href="{col.path}index_{i + 1}.html">下一页</a>')
                pager = f'<div class="pages">共{len(chunks)}页　{"".join(links)}</div>'
            intro = f"<p>{_e(col.intro)}</p>" if col.intro else ""
            main = (
                f"<h1>{_e(col.name)}</h1>{intro}{sub_html}{self.list_html(chunk, col.fmt)}{pager}"
            )
            text = self.layout(
                col.name,
                main,
                self.column_metas(col),
                self.crumbs_for(col),
                self.footer_variant(col.path),
                charset_meta=col.charset,
            )
            if col.charset == "gbk":
                self.pages[path] = Reply(
                    body=text.encode("gbk"), content_type="text/html; charset=GBK"
                )
            else:
                self.add_page(path, text)

    def render_article(self, col: Column, e: Entry, **layout_kw: object) -> str:
        metas = self.column_metas(col)
        metas["ArticleTitle"] = e.title
        if e.day is not None:
            metas["PubDate"] = f"{e.day:%Y-%m-%d} 09:30"
        metas["ContentSource"] = e.source
        info = f"发布日期：{e.day:%Y-%m-%d}　" if e.day else ""
        main = (
            f"<article><h1>{_e(e.title)}</h1>"
            f'<p class="info">{info}来源：{_e(e.source)}</p>'
            f'<div class="content">{e.body}</div></article>'
        )
        kw = {"footer": self.footer_variant(e.path)}
        kw.update(layout_kw)
        return self.layout(e.title, main, metas, [*self.crumbs_for(col), (e.title, "")], **kw)  # type: ignore[arg-type]

    def add_page(self, path: str, text: str, **reply: object) -> None:
        self.pages[path] = Reply(body=text.encode("utf-8"), **reply)  # type: ignore[arg-type]

    def add_articles(self, col: Column, overrides: dict[str, dict] | None = None) -> None:
        overrides = overrides or {}
        for e in col.entries:
            if e.path in self.pages or not e.path.startswith(col.path):
                continue
            self.add_page(e.path, self.render_article(col, e, **overrides.get(e.path, {})))

    # ------------------------------------------------------------ the site

    def _build(self) -> None:
        a = self.ago
        u = self.url
        p = lambda text: f"<p>{text}</p>"  # noqa: E731

        # 工作动态: stale (newest 20 days ago), 22 entries over three pages.
        gzdt_titles = [
            "市局召开国土空间规划编制工作推进会",
            "市局开展耕地保护专项督查",
            "市局组织开展地质灾害隐患点排查",
            "不动产登记“一窗受理”改革再提速",
            "市局召开党风廉政建设工作会议",
            "市局举办自然资源执法业务培训班",
            "国土调查成果共享应用工作有序推进",
            "市局开展“世界地球日”主题宣传活动",
            "市局赴临川区调研乡村振兴用地保障工作",
            "市局召开矿山生态修复工作调度会",
            "市局组织收看全省自然资源系统视频会议",
            "市局开展测绘地理信息市场专项检查",
            "市局召开重点项目用地保障工作会",
            "全市自然资源系统安全生产工作会议召开",
            "市局开展“土地日”普法宣传",
            "市局推进历史遗留不动产登记问题化解",
            "市局召开耕地保护目标责任考核会议",
            "市局开展地质灾害应急演练",
            "市局召开国土空间生态修复规划评审会",
            "市局开展政务服务“好差评”工作培训",
            "市局召开第一季度重点工作调度会",
            "市局开展林长制工作督导",
        ]
        gzdt = self.add_column(
            Column("/xwzx/gzdt/", "工作动态", "政务动态", "iso", intro="市局工作动态")
        )
        for i, title in enumerate(gzdt_titles):
            d = a(20 + 5 * i)
            body = p(f"{d.month}月{d.day}日，{title.removeprefix('市局')}。") + p(
                "会议要求，各科室、单位要提高政治站位，压实工作责任，确保各项任务落地见效。"
            )
            gzdt.entries.append(Entry(title, self.art_path(gzdt.path, d, 3100 + i), d, body))
        # Planted a11y.image-alt (fixed in revision 2), and a broken image on the static host.
        e0, e1, e2 = gzdt.entries[0], gzdt.entries[1], gzdt.entries[2]
        alt = ' alt="会议现场"' if self.revision == 2 else ""
        e0.body += f'<p><img src="/images/news/huiyi.png" width="320" height="200"{alt}></p>'
        e1.body += (
            f'<p><img src="{u(STATIC, "/images/2025/ducha-01.png")}" width="320" height="200" '
            'alt="督查现场"></p>'
        )
        e2.body += (
            f'<p><img src="{u(STATIC, "/images/2025/paicha-missing.png")}" width="320" '
            'height="200" alt="排查现场"></p>'
        )
        self.named |= {
            "gzdt_image_alt": e0.path,
            "gzdt_image_ok": e1.path,
            "gzdt_broken_image": e2.path,
        }
        self.named["gzdt_plain"] = gzdt.entries[5].path
        self.add_articles(gzdt)

        # 基层动态: fresh, [MM-DD] dates (year implied).
        jcdt = self.add_column(Column("/xwzx/jcdt/", "基层动态", "政务动态", "md"))
        jc = [
            (1, "临川区分局开展耕地“非农化”排查"),
            (3, "东乡分局完成集体土地所有权确权登记成果更新"),
            (6, "崇仁分局召开不动产登记便民服务座谈会"),
            (9, "南城分局开展矿产资源执法巡查"),
            (13, "资溪分局推进国土绿化工作"),
            (18, "金溪分局开展地质灾害防治知识宣传"),
        ]
        for i, (days, title) in enumerate(jc):
            d = a(days)
            jcdt.entries.append(
                Entry(
                    title,
                    self.art_path(jcdt.path, d, 4100 + i),
                    d,
                    p(f"近日，{title}。") + p("下一步，分局将持续加强监管，巩固工作成效。"),
                    source="临川市自然资源和规划局基层分局",
                )
            )
        self.named["jcdt_new_rev2"] = self.art_path(jcdt.path, a(2), 4199)
        if self.revision == 2:
            d = a(2)
            jcdt.entries.append(
                Entry(
                    "黎川分局开展自然资源领域安全生产大检查",
                    self.named["jcdt_new_rev2"],
                    d,
                    p("近日，黎川分局开展自然资源领域安全生产大检查。")
                    + '<p>附件：<a href="/uploads/jcdt/anquan-jiancha.docx">检查情况汇总表.docx</a></p>',
                )
            )
        # Planted a11y.html-has-lang on one article.
        self.named |= {"jcdt_fresh": jcdt.entries[0].path, "jcdt_nolang": jcdt.entries[2].path}
        self.add_articles(jcdt, {jcdt.entries[2].path: {"lang": False}})

        # 通知公告: stale (newest 200 days ago); one links to a soft-404.
        tzgg = self.add_column(Column("/tzgg/", "通知公告", "通知公告", "iso"))
        tz = [
            (200, "关于开展2026年度地质灾害防治工作的通知"),
            (230, "关于公布测绘资质复审换证结果的公告"),
            (260, "关于做好不动产登记窗口延时服务的通知"),
            (300, "关于征集国土空间规划宣传作品的通知"),
            (340, "关于调整不动产登记收费标准的公告"),
        ]
        for i, (days, title) in enumerate(tz):
            d = a(days)
            title = title.replace("2026", str(d.year))
            tzgg.entries.append(
                Entry(
                    title,
                    self.art_path(tzgg.path, d, 5100 + i),
                    d,
                    p(f"{title}，请各单位遵照执行。"),
                )
            )
        tzgg.entries[
            1
        ].body += '<p>原文链接：<a href="/tzgg/old/t20190312_88.html">测绘资质复审换证结果（原文）</a></p>'
        tzgg.entries[
            0
        ].body += '<p>附件：<a href="/uploads/tzgg/dzzh-fangzhi.pdf">地质灾害防治方案.pdf</a></p>'
        self.named |= {
            "tzgg_soft404_source": tzgg.entries[1].path,
            "tzgg_newest": tzgg.entries[0].path,
        }
        self.add_articles(tzgg)

        # 政策文件 and 政策解读 with planted timing defects (working days).
        zcwj = self.add_column(Column("/zcwj/", "政策文件", "政策文件", "cn"))
        zcjd = self.add_column(Column("/zcjd/", "政策解读", "解读回应", "slash"))
        m_late = plain_monday(a(60))
        m_ok = plain_monday(a(120))
        policies = [
            # (date, title, 文号, interpretation date or None, key)
            (
                a(45),
                "临川市自然资源和规划局关于进一步规范不动产登记工作的通知",
                "临自然资规〔{y}〕3号",
                a(45),
                "ontime",
            ),
            (
                m_late,
                "临川市国土空间规划管理办法",
                "临自然资规〔{y}〕2号",
                add_workdays(m_late, 5),
                "late",
            ),
            (
                a(90),
                "临川市自然资源和规划局关于加强耕地保护和改进占补平衡的实施意见",
                "临自然资发〔{y}〕15号",
                None,
                "missing",
            ),
            (
                m_ok,
                "临川市矿产资源开发利用管理规定",
                "临自然资规〔{y}〕1号",
                add_workdays(m_ok, 2),
                "ok2",
            ),
        ]
        self.policy_paths: dict[str, str] = {}
        self.interp_paths: dict[str, str] = {}
        for i, (d, title, doc_no, jd_day, key) in enumerate(policies):
            path = self.art_path(zcwj.path, d, 6100 + i)
            self.policy_paths[key] = path
            body = p(f"文号：{doc_no.format(y=d.year)}") + p(
                f"成文日期：{d.year}年{d.month}月{d.day}日"
            )
            body += p(f"现将《{title}》印发给你们，请认真贯彻执行。")
            body += f'<p>附件：<a href="/uploads/zcwj/{key}.pdf">{_e(title)}（全文）.pdf</a></p>'
            if jd_day is not None:
                jd_path = self.art_path(zcjd.path, jd_day, 6200 + i)
                self.interp_paths[key] = jd_path
                body += f'<p>相关解读：<a href="{jd_path}">《{_e(title)}》政策解读</a></p>'
                zcjd.entries.append(
                    Entry(
                        f"《{title}》政策解读",
                        jd_path,
                        jd_day,
                        p(f"一、出台背景。为贯彻落实上级部署，制定《{_e(title)}》。")
                        + p("二、主要内容。明确了职责分工、工作流程和保障措施。")
                        + f'<p>原文链接：<a href="{path}">{_e(title)}</a></p>',
                        source="政策法规组",
                    )
                )
            zcwj.entries.append(Entry(title, path, d, body, source="政策法规组"))
        self.add_articles(zcwj)
        self.named |= {f"policy_{k}": v for k, v in self.policy_paths.items()}
        self.named |= {f"interp_{k}": v for k, v in self.interp_paths.items()}
        # Planted a11y.color-contrast on one interpretation page.
        low = self.interp_paths["ok2"]
        for e in zcjd.entries:
            if e.path == low:
                e.body += '<p style="color:#b8b8b8">（本解读由政策法规组负责，咨询电话：0794-8261200）</p>'
        self.add_articles(zcjd)

        # 政府信息公开 and its parts (政府信息公开制度 deliberately missing).
        zwgk = self.add_column(
            Column(
                "/zwgk/",
                "政府信息公开",
                "信息公开",
                None,
                intro="依据《中华人民共和国政府信息公开条例》设置",
            )
        )
        # Revision 4: the guide was last updated about two years ago.
        guide_day = a(730) if self.revision == 4 else a(24)
        self.guide_day = guide_day
        fd = self.add_column(
            Column("/zwgk/fdzdgknr/", "法定主动公开内容", "信息公开", None, parent="/zwgk/")
        )
        fgwj = self.add_column(
            Column("/zwgk/fdzdgknr/fgwj/", "法规规章规范性文件", "信息公开", "iso", parent=fd.path)
        )
        fgwj.entries = [Entry(e.title, e.path, e.day) for e in zcwj.entries]
        jgzn = self.add_column(
            Column("/zwgk/fdzdgknr/jgzn/", "机构职能", "信息公开", "iso", parent=fd.path)
        )
        for i, (days, title) in enumerate(
            [(100, "主要职责"), (150, "内设机构"), (300, "领导信息"), (420, "历史沿革")]
        ):
            d = a(days)
            jgzn.entries.append(
                Entry(
                    title,
                    self.art_path(jgzn.path, d, 7100 + i),
                    d,
                    p(f"{SITE_NAME}{title}。") + p("（根据机构改革方案，现予以公开。）"),
                )
            )
        by_title = {e.title: e.path for e in jgzn.entries}
        self.add_articles(
            jgzn,
            {
                by_title["内设机构"]: {"site_id_meta": WRONG_SITE_ID},  # identity.site_id_mismatch
                by_title["历史沿革"]: {"site_id_meta": None, "footer": "legacy"},  # site_id_missing
            },
        )
        self.named |= {"jgzn_wrong_id": by_title["内设机构"], "jgzn_legacy": by_title["历史沿革"]}
        self.named["jgzn_plain"] = by_title["主要职责"]

        ghxx = self.add_column(
            Column(
                "/zwgk/fdzdgknr/ghxx/", "规划信息", "信息公开", "iso", parent=fd.path, charset="gbk"
            )
        )
        gh = [
            (15, "临川市国土空间总体规划批前公示", "utf8"),
            (50, "临川市中心城区控制性详细规划修编公告", "gbk_meta_wrong"),
            (90, "临川高新区产业园修建性详细规划公示", "gbk_header_wrong"),
            (160, "临川市村庄规划编制工作方案", "gbk_none"),
        ]
        for i, (days, title, variant) in enumerate(gh):
            d = a(days)
            ghxx.entries.append(
                Entry(
                    title,
                    self.art_path(ghxx.path, d, 8100 + i),
                    d,
                    p(f"现将{title}有关事项公告如下。")
                    + p("公示期间，公众可通过来信、来电等方式提出意见和建议。"),
                )
            )
            self.named[f"ghxx_{variant}"] = ghxx.entries[-1].path
        ghxx.entries[
            0
        ].body += (
            '<p>附件：<a href="/uploads/2026/附件1：规划公示图.pdf">附件1：规划公示图.pdf</a></p>'
        )
        self.add_articles(ghxx)
        for e in ghxx.entries[1:]:
            self._gbk_article(ghxx, e, [v for _, t, v in gh if t == e.title][0])

        czyjs = self.add_column(
            Column("/zwgk/fdzdgknr/czyjs/", "财政预决算", "信息公开", "iso", parent=fd.path)
        )
        y = self.anchor.year
        czyjs.entries = [
            Entry(
                f"{SITE_NAME}{y - 1}年部门决算",
                self.art_path(czyjs.path, a(60), 9101),
                a(60),
                p("现将本局部门决算公开如下。")
                + '<p>附件：<a href="/uploads/czyjs/bmjs.xlsx">部门决算公开表.xlsx</a>　'
                '<a href="/uploads/czyjs/bmjs-shuoming.docx">决算说明.docx</a></p>',
            ),
            Entry(
                f"{SITE_NAME}{y}年部门预算",
                self.art_path(czyjs.path, a(150), 9102),
                a(150),
                p("现将本局部门预算公开如下。")
                + '<p>附件：<a href="/uploads/czyjs/bmys.xlsx">部门预算公开表.xlsx</a>　'
                '<a href="/uploads/czyjs/sangong-missing.xlsx">“三公”经费预算表.xlsx</a></p>',
            ),
        ]
        self.named |= {"czyjs_final": czyjs.entries[0].path, "czyjs_budget": czyjs.entries[1].path}
        self.add_articles(czyjs)

        xzzf = self.add_column(
            Column("/zwgk/fdzdgknr/xzzf/", "行政许可和行政处罚", "信息公开", "iso", parent=fd.path)
        )
        xzzf.entries = [
            Entry(
                "行政许可事项清单",
                self.art_path(xzzf.path, a(20), 9201),
                a(20),
                p("本局行政许可事项清单如下。")
                + '<p>附件：<a href="/uploads/xzzf/xuke-qingdan.zip">行政许可事项清单.zip</a></p>',
            ),
            Entry(
                "行政处罚裁量基准",
                self.art_path(xzzf.path, a(80), 9202),
                a(80),
                p("本局行政处罚裁量基准如下。"),
            ),
        ]
        self.add_articles(xzzf)

        self.add_column(
            Column("/zwgk/fdzdgknr/zdxm/", "重大建设项目", "信息公开", "iso", parent=fd.path)
        )  # blank

        rsxx = self.add_column(
            Column("/zwgk/fdzdgknr/rsxx/", "人事信息", "信息公开", None, parent=fd.path)
        )
        for i, title in enumerate(
            [
                "关于公开遴选公务员的公告",
                "公开招聘事业单位工作人员拟聘用人员公示",
                "局领导干部任职前公示",
            ]
        ):
            rsxx.entries.append(
                Entry(
                    title,
                    self.art_path(rsxx.path, None, i),
                    None,
                    p(f"{title}。") + p("公示期间如有异议，请向局人事部门反映。"),
                )
            )
        self.add_articles(rsxx)

        tdzs = self.add_column(
            Column("/zwgk/fdzdgknr/tdzs/", "土地征收", "信息公开", "iso", parent=fd.path)
        )
        tdzs.entries = [
            Entry(
                "临川区2026年第一批次城镇建设用地征收土地公告".replace("2026", str(a(10).year)),
                self.art_path(tdzs.path, a(10), 9301),
                a(10),
                "",
            ),
            Entry(
                "东乡区征地补偿安置方案公告",
                self.art_path(tdzs.path, a(35), 9302),
                a(35),
                p("现将征地补偿安置方案公告如下。"),
            ),
        ]
        tdzs.entries[0].body = p("现将征收土地有关事项公告如下。") + (
            '<p>附件：<a href="%E5%BE%81%E5%9C%B0%E5%85%AC%E5%91%8A%E9%99%84%E5%9B%BE.pdf">征地公告附图.pdf</a></p>'
        )
        self.named["tdzs_base_href"] = tdzs.entries[0].path
        self.add_articles(
            tdzs, {tdzs.entries[0].path: {"head_extra": f'<base href="{tdzs.path}">\n'}}
        )

        nb = self.add_column(
            Column("/zwgk/nb/", "政府信息公开工作年度报告", "信息公开", "iso", parent="/zwgk/")
        )
        for yr in (y - 2, y - 3, y - 4):
            d = date(yr + 1, 1, 20)
            title = f"{SITE_NAME}{yr}年政府信息公开工作年度报告"
            nb.entries.append(
                Entry(
                    title,
                    self.art_path(nb.path, d, yr),
                    d,
                    p(
                        f"本报告根据《中华人民共和国政府信息公开条例》编制，统计期限为{yr}年1月1日至12月31日。"
                    )
                    + f'<p>附件：<a href="/uploads/nb/{yr}.pdf">{yr}年年度报告.pdf</a></p>',
                    source="综合组",
                )
            )
        self.named |= {
            f"nb_{y - yr}": e.path for yr, e in zip((y - 2, y - 3, y - 4), nb.entries, strict=True)
        }
        self.add_articles(nb)

        # 重点领域, 会议公开, 专题专栏.
        zdly = self.add_column(Column("/zdly/", "重点领域信息公开", "信息公开", "iso"))
        zdly.intro = "公共资源配置、建设项目用地批准、生态保护修复等领域信息"
        zdly.entries = [
            Entry(
                "临川市2026年度建设用地供应计划".replace("2026", str(a(8).year)),
                self.art_path(zdly.path, a(8), 9401),
                a(8),
                p("现将年度建设用地供应计划公布如下。"),
            ),
            Entry(
                "全市矿山生态修复项目进展情况",
                self.art_path(zdly.path, a(30), 9402),
                a(30),
                p("截至目前，全市矿山生态修复项目进展顺利。"),
            ),
            Entry(
                "建设项目用地预审与选址意见书办理结果公开",
                self.art_path(zdly.path, a(60), 9403),
                a(60),
                p("现将办理结果公开如下。"),
            ),
        ]
        self.add_articles(zdly)

        hygk = self.add_column(Column("/hygk/", "会议公开", "信息公开", "dot"))
        hygk.entries = [
            Entry(
                "市局召开局长办公会议研究国土空间规划工作",
                self.art_path(hygk.path, a(10), 9501),
                a(10),
                p("会议听取了国土空间规划编制进展情况汇报。")
                + '<p>分享：<a href="javascript:share(\'weixin\')" class="icon-weixin"></a></p>',
            ),
            Entry(
                "市局召开局长办公会议研究耕地保护工作",
                self.art_path(hygk.path, a(40), 9502),
                a(40),
                p("会议研究部署耕地保护重点工作。"),
            ),
            Entry(
                "市局召开局长办公会议研究不动产登记工作",
                self.art_path(hygk.path, a(70), 9503),
                a(70),
                p("会议研究不动产登记便民措施。"),
            ),
        ]
        self.named |= {"hygk_link_name": hygk.entries[0].path, "hygk_plain": hygk.entries[1].path}
        self.add_articles(hygk)

        ztzl = self.add_column(Column("/ztzl/", "专题专栏", "专题专栏", "iso"))
        ztzl.entries = [
            Entry("国土空间规划宣传周", "/ztzl/ghxcz/", a(30), ""),
            Entry("地质灾害防治专题", "/ztzl/dzzh/", a(45), ""),
            Entry("自然资源数据开放专题", "/ztzl/sjkf/", a(60), ""),
        ]
        hostile = {
            "/ztzl/ghxcz/": "<script>alert('欢迎访问国土空间规划宣传周专题');confirm('是否订阅专题动态？');</script>",
            "/ztzl/dzzh/": "<script>var n=0;for(;;){n++;}</script>",
            "/ztzl/sjkf/": '<p><img src="/ztzl/sjkf/loading.png" width="32" height="32" alt="数据加载中"></p>',
        }
        for e in ztzl.entries:
            e.body = p(f"{e.title}，集中展示相关政策、动态和成果。") + hostile[e.path]
        self.add_articles(ztzl)

        # 公众参与: 意见征集 (+ 反馈), 局长信箱, 在线访谈 (JavaScript), footer without 公安备案号.
        gzcy = self.add_column(
            Column(
                "/gzcy/", "公众参与", "互动交流", None, intro="欢迎社会公众参与自然资源和规划工作"
            )
        )
        yjzj = self.add_column(
            Column("/gzcy/yjzj/", "意见征集", "互动交流", "iso", parent=gzcy.path)
        )
        fk = self.add_column(
            Column("/gzcy/yjzj/fk/", "意见反馈", "互动交流", "iso", parent=yjzj.path)
        )
        drafts = [
            # (start days ago, period days, feedback days after end or None, name, key)
            (95, 35, 10, "临川市国土空间总体规划（2021—2035年）（草案）", "ok"),
            (120, 20, 8, "临川市不动产登记操作规范（征求意见稿）", "short"),
            (60, 31, None, "临川市地质灾害防治管理办法（征求意见稿）", "no_feedback"),
            (10, 35, None, "临川市耕地保护激励办法（征求意见稿）", "open"),
        ]
        self.consultation_paths: dict[str, str] = {}
        for i, (start_ago, period, fb_after, name, key) in enumerate(drafts):
            start = a(start_ago)
            end = start + timedelta(days=period - 1)
            path = self.art_path(yjzj.path, start, 9600 + i)
            self.consultation_paths[key] = path
            body = p(f"为广泛听取社会各界意见，现将《{name}》全文公布，公开征求意见。")
            body += p(
                f"征求意见时间：{start.year}年{start.month}月{start.day}日至{end.year}年{end.month}月{end.day}日（共{period}天）。"
            )
            body += p("意见可通过电子邮件发送至 yjzj@lcnr.gov.cn，或邮寄至临川市赣东大道1号。")
            body += f'<p>附件：<a href="/uploads/yjzj/{key}.docx">{_e(name)}.docx</a></p>'
            if fb_after is not None:
                fd_day = end + timedelta(days=fb_after)
                fb_path = self.art_path(fk.path, fd_day, 9700 + i)
                fb_title = f"《{name}》征求意见采纳情况反馈"
                fk.entries.append(
                    Entry(
                        fb_title,
                        fb_path,
                        fd_day,
                        p(f"《{_e(name)}》公开征求意见期间，共收到意见建议12条，采纳8条。")
                        + f'<p>原文：<a href="{path}">关于《{_e(name)}》公开征求意见的公告</a></p>',
                    )
                )
                body += f'<p>意见反馈：<a href="{fb_path}">{_e(fb_title)}</a></p>'
            yjzj.entries.append(Entry(f"关于《{name}》公开征求意见的公告", path, start, body))
        self.named |= {f"consult_{k}": v for k, v in self.consultation_paths.items()}
        self.add_articles(yjzj)
        self.add_articles(fk)

        jzxx = self.add_column(
            Column("/gzcy/jzxx/", "局长信箱", "互动交流", "iso", parent=gzcy.path)
        )
        letters = [
            (5, 2, "咨询不动产登记所需材料"),
            (12, 3, "反映小区规划变更问题"),
            (25, 4, "建议公开征地补偿标准"),
            (40, 5, "咨询测绘资质办理流程"),
        ]
        for i, (asked, answered_after, title) in enumerate(letters):
            d = a(asked)
            r = d + timedelta(days=answered_after)
            jzxx.entries.append(
                Entry(
                    title,
                    self.art_path(jzxx.path, d, 9800 + i),
                    d,
                    p(f"来信时间：{d:%Y-%m-%d}")
                    + p(f"来信内容：{title}。")
                    + p(f"回复时间：{r:%Y-%m-%d}")
                    + p("回复内容：感谢您的来信，相关情况已转交业务科室办理。"),
                    source="执法监督组",
                )
            )
        self.named["jzxx_letter"] = jzxx.entries[0].path
        self.add_articles(jzxx)

        # Hand-made pages.
        self._homepage()
        self._zwgk_pages(zwgk)
        self._gzcy_pages(gzcy)
        for col in self.columns.values():
            if col.path not in self.pages:
                self.render_column(col)
        self._misc_pages()
        self._binaries()

    def _gbk_article(self, col: Column, e: Entry, variant: str) -> None:
        """Planted charset cases: GBK bytes with a wrong or missing declaration."""
        text = self.render_article(
            col, e, charset_meta=None if variant != "gbk_meta_wrong" else "utf-8"
        )
        ctype = {
            "gbk_meta_wrong": "text/html",
            "gbk_header_wrong": "text/html; charset=utf-8",
            "gbk_none": "text/html",
        }[variant]
        self.pages[e.path] = Reply(body=text.encode("gbk"), content_type=ctype)

    def _homepage(self) -> None:
        u = self.url
        # Revision 3: the homepage shows nothing from the last 14 days (columns.homepage_stale).
        cutoff = self.ago(14) if self.revision == 3 else None
        latest = sorted(
            [
                e
                for c in ("/xwzx/gzdt/", "/xwzx/jcdt/", "/zdly/", "/hygk/")
                for e in self.columns[c].entries
                if cutoff is None or (e.day is not None and e.day < cutoff)
            ],
            key=lambda e: e.day or date.min,
            reverse=True,
        )[:8]
        notices = sorted(
            self.columns["/tzgg/"].entries, key=lambda e: e.day or date.min, reverse=True
        )[:5]
        policies = sorted(
            self.columns["/zcwj/"].entries, key=lambda e: e.day or date.min, reverse=True
        )[:4]
        topic_fixed = self.revision == 2
        banners = [
            ("国土空间规划宣传周", "/ztzl/ghxcz/", "banner-ghxcz.png"),
            ("地质灾害防治专题", "/ztzl/dzzh/", "banner-dzzh.png"),
            ("自然资源数据开放专题", "/ztzl/sjkf/", "banner-sjkf.png"),
            # Planted: a deleted topic page linked from the homepage (fixed in revision 2).
            (
                "第三次全国国土调查专题",
                "/ztzl/" if topic_fixed else "/ztzl/sdgtdc/",
                "banner-sdgtdc.png",
            ),
        ]
        banner_html = "".join(
            f'<li><a href="{href}"><img src="{u(STATIC, "/images/" + img)}" width="240" height="80" alt="{t}"></a></li>'
            for t, href, img in banners
        )
        services = [
            ("不动产登记", "/bdcdj/"),
            ("建设工程规划许可", "/ghxk/"),
            ("测绘资质审批", "/chzz/"),
            ("办事指南", "/bszn/"),
        ]
        service_html = "".join(
            f'<li><a href="{u(ZWFW, path)}">{n}</a></li>' for n, path in services
        )

        def block(title: str, more: str, entries: list[Entry], fmt: str) -> str:
            return (
                f"<section><h2>{title}</h2>{self.list_html(entries, fmt)}"
                f'<p><a href="{more}">更多{title}</a></p></section>'
            )

        main = (
            f'<h1 class="sr-only">{SITE_NAME}门户网站</h1>'
            '<div class="cols">'
            + block("最新动态", "/xwzx/gzdt/", latest, "iso")
            + block("通知公告", "/tzgg/", notices, "iso")
            + block("政策文件", "/zcwj/", policies, "iso")
            + self._disclosure_block()
            + f'<section><h2>网上办事</h2><ul class="list">{service_html}</ul></section>'
            '<section><h2>互动交流</h2><ul class="list">'
            '<li><a href="/gzcy/jzxx/">局长信箱</a></li><li><a href="/gzcy/yjzj/">意见征集</a></li>'
            '<li><a href="/gzcy/zxft/">在线访谈</a></li><li><a href="/hdrl/">活动日历</a></li></ul></section>'
            f'<section><h2>专题专栏</h2><ul class="list">{banner_html}</ul></section>'
            "</div>"
        )
        self.add_page("/", self.layout("首页", main, {"ColumnName": "首页", "ColumnType": "首页"}))

    def _disclosure_block(self) -> str:
        """The homepage's 政府信息公开 block: named 政务公开 in revision 3; in revision 4 only
        the guide and the parts are linked, with no entrance to the column itself."""
        name = {3: "政务公开", 4: "公开服务"}.get(self.revision, "政府信息公开")
        enter = "" if self.revision == 4 else f'<p><a href="/zwgk/">进入{name}</a></p>'
        return (
            f'<section><h2>{name}</h2><ul class="list">'
            '<li><a href="/zwgk/zn/">政府信息公开指南</a></li>'
            '<li><a href="/zwgk/fdzdgknr/">法定主动公开内容</a></li>'
            '<li><a href="/zwgk/nb/">政府信息公开工作年度报告</a></li>'
            f'<li><a href="/zwgk/ysqgk/">依申请公开</a></li></ul>{enter}</section>'
        )

    def _zwgk_pages(self, zwgk: Column) -> None:
        parts = [
            ("政府信息公开指南", "/zwgk/zn/", "公开指南、公开方式和申请程序"),
            (
                "法定主动公开内容",
                "/zwgk/fdzdgknr/",
                "《条例》第二十条、第二十一条规定的主动公开内容",
            ),
            ("政府信息公开工作年度报告", "/zwgk/nb/", "历年政府信息公开工作年度报告"),
            ("依申请公开", "/zwgk/ysqgk/", "申请方式、受理机构和办理流程"),
        ]
        items = "".join(
            f'<li><a href="{h}">{n}</a>　<span class="date">{d}</span></li>' for n, h, d in parts
        )
        main = (
            "<h1>政府信息公开</h1><p>依据《中华人民共和国政府信息公开条例》设置本专栏。</p>"
            f'<nav aria-label="政府信息公开"><ul class="sub">{items}</ul></nav>'
            '<p><a href="/zwgk/xxgkml/">政府信息公开目录</a></p>'
        )
        self.add_page(
            "/zwgk/",
            self.layout(
                "政府信息公开", main, self.column_metas(zwgk), [("政府信息公开", "/zwgk/")]
            ),
        )
        g = self.guide_day
        guide = Column("/zwgk/zn/", "政府信息公开指南", "信息公开", None, parent="/zwgk/")
        self.columns[guide.path] = guide
        # Revision 3: the guide shows no update date at all (guide.update_date_missing).
        dated = self.revision != 3
        body = (
            f"<h1>{SITE_NAME}政府信息公开指南</h1>"
            + (f'<p class="info">更新日期：{cn_numeral_date(g)}</p>' if dated else "")
            + "<p>为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。</p>"
            "<h2>一、主动公开</h2><p>（一）公开范围：机构职能、法规文件、规划信息、财政预决算等。</p>"
            "<p>（二）公开方式：本局门户网站、政务新媒体、政务服务大厅等。</p>"
            "<h2>二、依申请公开</h2><p>申请人可通过当面、邮寄、网络等方式提出申请，本局自收到申请之日起20个工作日内予以答复。</p>"
            "<h2>三、受理机构</h2><p>受理机构：综合组　办公时间：工作日上午9:00—12:00，下午14:00—17:30　联系电话：0794-8261234</p>"
            '<p>附件：<a href="/uploads/zwgk/shenqingbiao.docx">政府信息公开申请表.docx</a></p>'
        )
        metas = self.column_metas(guide) | {"ArticleTitle": f"{SITE_NAME}政府信息公开指南"}
        if dated:
            metas["PubDate"] = f"{g:%Y-%m-%d} 10:00"
        self.add_page(
            guide.path,
            self.layout(
                "政府信息公开指南",
                body,
                metas,
                [("政府信息公开", "/zwgk/"), ("政府信息公开指南", "")],
            ),
        )
        ysq = Column("/zwgk/ysqgk/", "依申请公开", "信息公开", None, parent="/zwgk/")
        self.columns[ysq.path] = ysq
        self.add_page(
            ysq.path,
            self.layout(
                "依申请公开",
                "<h1>依申请公开</h1><p>公民、法人或者其他组织可以向本局申请获取相关政府信息。</p>"
                '<p><a href="/zwgk/zn/">查看政府信息公开指南</a>　<a href="/uploads/zwgk/shenqingbiao.docx">下载申请表</a></p>',
                self.column_metas(ysq),
                self.crumbs_for(ysq),
            ),
        )

    def _gzcy_pages(self, gzcy: Column) -> None:
        nf = self.footer_variant("/gzcy/")
        items = (
            '<li><a href="/gzcy/yjzj/">意见征集</a></li><li><a href="/gzcy/yjzj/fk/">意见反馈</a></li>'
            '<li><a href="/gzcy/jzxx/">局长信箱</a></li><li><a href="/gzcy/jzxx/xiexin.html">我要写信</a></li>'
            '<li><a href="/gzcy/zxft/">在线访谈</a></li><li><a href="/hdrl/">活动日历</a></li>'
            '<li><a href="/gzcy/wsdc/">网上调查</a></li>'
        )
        self.add_page(
            "/gzcy/",
            self.layout(
                "公众参与",
                f'<h1>公众参与</h1><p>{gzcy.intro}</p><ul class="list">{items}</ul>',
                self.column_metas(gzcy),
                [("公众参与", "/gzcy/")],
                nf,
            ),
        )
        # Planted a11y.label: the letter form's fields have no labels.
        form = (
            "<h1>我要写信</h1><p>请如实填写以下信息，我们将在5个工作日内回复。</p>"
            '<form action="/gzcy/jzxx/submit" method="post">'
            '<p>姓名 <input type="text" name="name"></p>'
            '<p>联系电话 <input type="text" name="phone"></p>'
            '<p>来信内容 <textarea name="content" rows="6" cols="40"></textarea></p>'
            '<p><button type="submit">提交</button></p></form>'
        )
        self.add_page(
            "/gzcy/jzxx/xiexin.html",
            self.layout(
                "我要写信",
                form,
                {"ColumnName": "局长信箱", "ColumnType": "互动交流"},
                [("公众参与", "/gzcy/"), ("局长信箱", "/gzcy/jzxx/"), ("我要写信", "")],
                nf,
            ),
        )
        # 在线访谈: the list only exists after scripts run; one item is a 404.
        a = self.ago
        items_js = [
            {
                "t": "局长在线：不动产登记便民服务",
                "d": f"{a(7):%Y-%m-%d}",
                "p": f"{a(7):%Y%m}/t{a(7):%Y%m%d}_9901",
            },
            {
                "t": "访谈：国土空间规划与百姓生活",
                "d": f"{a(21):%Y-%m-%d}",
                "p": f"{a(21):%Y%m}/t{a(21):%Y%m%d}_9902",
            },
        ]
        self.named["zxft_ok"] = f"/gzcy/zxft/{items_js[0]['p']}.html"
        self.named["zxft_missing"] = f"/gzcy/zxft/{items_js[1]['p']}.html"
        script = (
            "<script>(function(){var items=" + json.dumps(items_js, ensure_ascii=False) + ";"
            "var ul=document.getElementById('ft-list');items.forEach(function(it){"
            "var li=document.createElement('li');var x=document.createElement('a');"
            "x.href='/gzcy/zxft/'+it.p+'.html';x.textContent=it.t;li.appendChild(x);"
            "var s=document.createElement('span');s.className='date';s.textContent=it.d;"
            "li.appendChild(s);ul.appendChild(li);});})();</script>"
        )
        zxft = Column("/gzcy/zxft/", "在线访谈", "互动交流", "iso", parent="/gzcy/")
        self.columns[zxft.path] = zxft
        self.add_page(
            zxft.path,
            self.layout(
                "在线访谈",
                f'<h1>在线访谈</h1><ul class="list" id="ft-list"></ul>{script}',
                self.column_metas(zxft),
                self.crumbs_for(zxft),
                nf,
            ),
        )
        e = Entry(
            items_js[0]["t"],
            self.named["zxft_ok"],
            a(7),
            "<p>本期访谈邀请局领导介绍不动产登记便民服务举措。</p>",
        )
        self.add_page(e.path, self.render_article(zxft, e))
        self.add_page(
            "/gzcy/wsdc/",
            self.layout(
                "网上调查",
                "<h1>网上调查</h1><p>调查问卷加载中。</p>",
                {"ColumnName": "网上调查", "ColumnType": "互动交流"},
                [("公众参与", "/gzcy/"), ("网上调查", "")],
                nf,
            ),
            delay=6.0,
        )

    def _misc_pages(self) -> None:
        u = self.url
        links = (
            '<h1>相关网站</h1><ul class="list">'
            f'<li><a href="{u(PARTNER)}">临川市人民政府</a></li>'
            f'<li><a href="{u(PARTNER, "/zwgk/")}">临川市政府信息公开平台</a></li>'
            f'<li><a href="{u(PARTNER, "/hdjl/")}">临川市政民互动平台</a></li>'
            f'<li><a href="http://{INVALID}/">临川市国土资源局（原网站）</a></li>'
            f'<li><a href="{u(GIS)}">国土空间规划“一张图”</a></li>'
            "</ul>"
        )
        self.add_page(
            "/yqlj/",
            self.layout(
                "相关网站",
                links,
                {"ColumnName": "相关网站", "ColumnType": "其他"},
                [("相关网站", "")],
            ),
        )
        self.add_page(
            "/zc/",
            self.layout(
                "我为政府网站找错",
                '<h1>我为政府网站找错</h1><p>发现本网站的错误，请发送邮件至 <a href="mailto:xxzx@lcnr.gov.cn">xxzx@lcnr.gov.cn</a> 或拨打 0794-8261234。</p>',
                {"ColumnName": "我为政府网站找错", "ColumnType": "其他"},
                [("我为政府网站找错", "")],
            ),
        )
        self.add_page(
            "/lxwm/",
            self.layout(
                "联系我们",
                "<h1>联系我们</h1><p>地址：临川市赣东大道1号</p><p>联系电话：0794-8261234</p>",
                {"ColumnName": "联系我们", "ColumnType": "其他"},
                [("联系我们", "")],
            ),
        )
        # Only reachable through the search form (not a link): answers so a form-following
        # crawler does not report it.
        self.add_page(
            "/search/",
            self.layout(
                "站内搜索",
                "<h1>站内搜索</h1><p>请输入关键词进行搜索。</p>",
                crumbs=[("站内搜索", "")],
            ),
        )
        self.add_page(
            "/zdly/bdccx.html",
            self.layout(
                "不动产登记信息查询",
                '<h1>不动产登记信息查询</h1><p>请点击进入：<a href="/api/bdc/query">不动产登记信息查询系统</a></p>',
                {"ColumnName": "重点领域信息公开", "ColumnType": "信息公开"},
                [("重点领域信息公开", "/zdly/"), ("不动产登记信息查询", "")],
            ),
        )
        # Link the query page from 重点领域 (its list page is rendered already: add to the body).
        zdly = self.pages["/zdly/"]
        zdly.body = zdly.body.replace(
            b'<ul class="list">',
            '<p><a href="/zdly/bdccx.html">不动产登记信息查询</a></p><ul class="list">'.encode(),
            1,
        )
        soft = '<h1>页面不存在</h1><p>对不起，您访问的页面不存在或已被删除。</p><p><a href="/">返回首页</a></p>'
        self.add_page("/tzgg/old/t20190312_88.html", self.layout("页面不存在", soft))
        self.not_found_html = self.layout(
            "404 页面不存在",
            '<h1>404 页面不存在</h1><p>对不起，您访问的页面不存在。</p><p><a href="/">返回首页</a></p>',
        ).encode()
        self.pages["/css/main.css"] = Reply(
            body=CSS.encode(), content_type=files.CONTENT_TYPES[".css"]
        )
        self.pages["/robots.txt"] = Reply(
            body=b"User-agent: *\nDisallow: /admin/\n", content_type=files.CONTENT_TYPES[".txt"]
        )

    def _binaries(self) -> None:
        b = self.binaries
        b["/images/logo.png"] = Reply(body=files.png(120, 40), content_type="image/png")
        b["/images/news/huiyi.png"] = Reply(
            body=files.png(32, 20, (120, 120, 120)), content_type="image/png"
        )
        for path in (
            "/uploads/tzgg/dzzh-fangzhi.pdf",
            *(f"/uploads/zcwj/{k}.pdf" for k in ("ontime", "late", "missing", "ok2")),
            "/uploads/2026/附件1：规划公示图.pdf",
            "/zwgk/fdzdgknr/tdzs/征地公告附图.pdf",
            "/uploads/czyjs/bmjs.xlsx",
            "/uploads/czyjs/bmjs-shuoming.docx",
            "/uploads/czyjs/bmys.xlsx",
            "/uploads/xzzf/xuke-qingdan.zip",
            "/uploads/zwgk/shenqingbiao.docx",
            *(f"/uploads/yjzj/{k}.docx" for k in ("ok", "short", "no_feedback", "open")),
            *(f"/uploads/nb/{yr}.pdf" for yr in range(self.anchor.year - 4, self.anchor.year - 1)),
        ):
            body, ctype = files.attachment(path)
            b[path] = Reply(body=body, content_type=ctype)

    # ------------------------------------------------------------ dynamic replies

    def calendar(self, query: str) -> Reply:
        """活动日历: every month links to the previous and next month, forever (a crawler trap)."""
        qs = parse_qs(query)
        try:
            y, m = (int(x) for x in qs.get("date", [""])[0].split("-")[:2])
            first = date(y, m, 1)
        except (ValueError, TypeError):
            first = self.anchor.replace(day=1)
        prev = (first - timedelta(days=1)).replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        cells, row = [], ["<td></td>"] * first.weekday()
        d = first
        while d.month == first.month:
            row.append(f"<td>{d.day}</td>")
            if len(row) == 7:
                cells.append("<tr>" + "".join(row) + "</tr>")
                row = []
            d += timedelta(days=1)
        if row:
            cells.append("<tr>" + "".join(row + ["<td></td>"] * (7 - len(row))) + "</tr>")
        head = "".join(f'<th scope="col">{w}</th>' for w in "一二三四五六日")
        main = (
            f"<h1>活动日历 {first.year}年{first.month}月</h1>"
            f'<p><a href="/hdrl/?date={prev:%Y-%m}">上一月</a>　<a href="/hdrl/?date={nxt:%Y-%m}">下一月</a></p>'
            f'<table class="cal"><caption>{first.year}年{first.month}月</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(cells)}</tbody></table>"
        )
        return Reply(body=self.layout("活动日历", main, crumbs=[("活动日历", "")]).encode())

    def mobile(self, v6: bool) -> Reply:
        if v6:
            text = (
                '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>网站维护中</title></head>'
                "<body><h1>网站维护中</h1><p>IPv6 访问通道正在建设，请稍后访问。</p></body></html>"
            )
        else:
            items = "".join(
                f'<li><a href="{self.url(WWW, p)}">{n}</a></li>' for n, p in self.nav[1:7]
            )
            text = (
                '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{SITE_NAME}（手机版）</title></head>'
                f"<body><h1>{SITE_NAME}</h1><p>手机版首页</p><ul>{items}</ul>"
                f'<p><a href="{self.url(WWW)}">访问电脑版</a></p></body></html>'
            )
        return Reply(body=text.encode())

    def simple_page(self, title: str, text: str) -> Reply:
        body = (
            f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title></head>'
            f"<body><h1>{_e(title)}</h1><p>{_e(text)}</p></body></html>"
        )
        return Reply(body=body.encode())

    def respond(self, host: str, path: str, query: str, v6: bool) -> Reply:
        """The reply for one request (method-independent; HEAD drops the body)."""
        host = host.lower()
        if host == WWW:
            return self._www(path, query)
        if host == STATIC:
            if path == "/":
                return self.simple_page(
                    "临川市自然资源和规划局静态资源服务器", "本服务器提供网站图片等静态资源。"
                )
            if path.startswith("/images/") and "missing" not in path:
                return Reply(body=files.png(240, 80), content_type="image/png")
            return Reply(404, b"Not Found", "text/plain; charset=utf-8")
        if host == MOBILE:
            return (
                self.mobile(v6)
                if path in ("/", "/index.html")
                else Reply(404, b"Not Found", "text/plain")
            )
        if host == ZWFW:
            names = {
                "/": "临川市自然资源和规划局网上办事大厅",
                "/bdcdj/": "不动产登记",
                "/ghxk/": "建设工程规划许可",
                "/chzz/": "测绘资质审批",
                "/bszn/": "办事指南",
            }
            if path in names:
                return self.simple_page(names[path], "请登录后办理相关业务。")
            return Reply(404, b"Not Found", "text/plain")
        if host == PARTNER:
            if path == "/":
                return self.simple_page("临川市人民政府", "临川市人民政府门户网站")
            if path.startswith("/zwgk/"):
                return Reply(
                    403,
                    "<html><body><h1>403 Forbidden</h1><p>您的访问被网站防火墙拦截。</p></body></html>".encode(),
                    headers={"Server": "WAF"},
                )
            if path.startswith("/hdjl/"):
                return Reply(
                    429, b"Too Many Requests", "text/plain", headers={"Retry-After": "3600"}
                )
            return Reply(404, b"Not Found", "text/plain")
        return Reply(404, b"Unknown host", "text/plain")

    def _www(self, path: str, query: str) -> Reply:
        if path == "/index.html":
            path = "/"
        if path == "/hdrl/" or path == "/hdrl/index.html":
            return self.calendar(query)
        if path in self.pages:
            return self.pages[path]
        if path.endswith("/index.html") and path[: -len("index.html")] in self.pages:
            return self.pages[path[: -len("index.html")]]
        if path in self.binaries:
            return self.binaries[path]
        if path == "/api/bdc/query":
            return Reply(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>")
        if path == "/zwgk/xxgkml/":
            return Reply(302, b"", headers={"Location": "/zwgk/xxgkml/index.jsp"})
        if path == "/zwgk/xxgkml/index.jsp":
            return Reply(302, b"", headers={"Location": "/zwgk/xxgkml/"})
        if path == "/ztzl/sjkf/loading.png":
            return Reply(hang=True)
        if path in ("/zwgk/index.htm", "/zwgk/index.shtml"):
            return Reply(301, b"", headers={"Location": "/zwgk/"})
        return Reply(404, self.not_found_html)
