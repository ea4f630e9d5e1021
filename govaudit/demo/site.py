"""The demo bureau's website: content, layout and planted defects, generated from data.

临川市自然资源和规划局 is fictional. Every date on the site is an offset from ``anchor``, so
the same audit gives the same findings whatever day it runs. ``revision`` 2 fixes some
defects and adds one; revisions 3 and 4 are "neglected site" variants of revision 1 that
plant the disclosure rules revisions 1/2 must pass (see EXPECTED.md). Nothing here touches
the network: the HTTP and DNS servers live in server.py and dnsserver.py; this module maps
(host, path, query) to a reply.

The bureau's identity and data types are in site_data.py, its columns and articles in
site_columns.py, the page builders in pages.py (and veto_pages.py: the 暗链 and the 在线咨询
list); DemoContent puts them together.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs

from govaudit.demo import files
from govaudit.demo.site_columns import BureauColumns
from govaudit.demo.site_data import (
    CASINO,
    MOBILE,
    PARTNER,
    REVISIONS,
    SITE_NAME,
    STATIC,
    WWW,
    ZWFW,
    Column,
    Ports,
    Reply,
    _e,
)
from govaudit.demo.veto_pages import VetoPages


class DemoContent(VetoPages):
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

    # ------------------------------------------------------------ the site

    def _build(self) -> None:
        bureau = BureauColumns(self.anchor, self.revision, self.url)
        self.columns = bureau.columns
        self.named = bureau.named
        self.policy_paths = bureau.policy_paths
        self.interp_paths = bureau.interp_paths
        self.consultation_paths = bureau.consultation_paths
        self.guide_day = bureau.guide_day
        for col, overrides in bureau.published:
            self.add_articles(col, overrides)
            for e in col.entries:
                if e.path in bureau.gbk:
                    self._gbk_article(col, e, bureau.gbk[e.path])

        # Hand-made pages.
        self._homepage()
        self._zwgk_pages(self.columns["/zwgk/"])
        self._gzcy_pages(self.columns["/gzcy/"])
        for col in self.columns.values():
            if col.path not in self.pages:
                self.render_column(col)
        self._misc_pages()
        self._veto_pages()
        self._binaries()

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
            "/uploads/tzgg/huojiang-mingdan.xlsx",
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
        if host == CASINO:
            return self.casino(path)
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
