"""The demo site's page builders: layout, footer, column lists, article pages and the
hand-made pages (homepage, 政府信息公开, 公众参与, misc). A mixin of DemoContent, it turns the
bureau's data into HTML; knows nothing of sockets, DNS or how replies are served.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from govaudit.demo import files
from govaudit.demo.site_data import (
    GIS,
    ICP,
    INVALID,
    MOBILE,
    NAV,
    PARTNER,
    PSB,
    SITE_ID,
    SITE_NAME,
    STATIC,
    WWW,
    ZWFW,
    Column,
    Entry,
    Ports,
    Reply,
    _e,
    cn_numeral_date,
    fmt_date,
)

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


class SitePages:
    """The HTML of the demo site: a mixin of :class:`govaudit.demo.site.DemoContent`, which
    holds the attributes below (``guide_day`` and the columns come from the bureau's data)."""

    anchor: date
    revision: int
    ports: Ports
    columns: dict[str, Column]
    pages: dict[str, Reply]
    named: dict[str, str]
    guide_day: date
    not_found_html: bytes

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
