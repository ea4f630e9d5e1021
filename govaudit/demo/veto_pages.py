"""The demo's pages for the veto items watched by the integrity and interaction audits.

- 暗链 (H01–H03): the homepage's footer hides, off screen, a link to a gambling site
  (``CASINO``, served by the demo too: its page is a 博彩 page). Beside it, a normal hover
  menu (网站群: its links show on :hover / :focus-within) that must not be reported.
- 在线咨询 (M01, M02): a public message list in table layout (标题, 留言时间, 状态, 回复时间)
  under 公众参与, linked from the homepage's 互动交流 block and from /gzcy/: answered
  messages, one answered after 14 working days and one unanswered for 128 days.

A mixin of DemoContent, applied after the other pages are built (it edits the homepage,
/gzcy/ and the stylesheet in place); knows nothing of sockets or DNS. The seeded probe
history (D01) is in probes.py.
"""

from __future__ import annotations

from datetime import date

from govaudit.demo.pages import SitePages
from govaudit.demo.site_data import (
    CASINO,
    MOBILE,
    PARTNER,
    Column,
    Entry,
    Reply,
    _e,
    add_workdays,
    plain_monday,
)

#: Added to /css/main.css: the 网站群 hover menu (a normal menu, not a hidden link).
MENU_CSS = """
.sites{position:relative;display:inline-block;margin-left:16px}
.sites .menu{display:none;position:absolute;left:0;top:100%;z-index:10;list-style:none;margin:0;padding:6px 12px;background:#fff;border:1px solid #ccc;white-space:nowrap}
.sites:hover .menu,.sites:focus-within .menu{display:block}
table.msg{border-collapse:collapse;width:100%}
table.msg th,table.msg td{border:1px solid #ccc;padding:4px 8px;text-align:left}
"""

#: The planted 暗链 (H01): the anchor text is a gambling term (H02), the site serves a 博彩
#: page (H03). Positioned off screen, as injected links usually are.
HIDDEN_LINK = (
    '<div style="position:absolute;left:-9999px;top:-9999px;width:1px;height:1px;overflow:hidden">'
    '<a href="{href}">澳门新葡京娱乐城</a></div>'
)

ZXZX = "/gzcy/zxzx/"


class VetoPages(SitePages):
    """The 暗链, the hover menu, the gambling site and the 在线咨询 list (see module doc)."""

    def _veto_pages(self) -> None:
        self._hidden_link()
        self._messages()

    # ------------------------------------------------------------ integrity

    def _hidden_link(self) -> None:
        menu = (
            '<div class="sites"><span>网站群</span><ul class="menu">'
            f'<li><a href="{self.url(PARTNER)}">临川市人民政府网站</a></li>'
            f'<li><a href="{self.url(MOBILE)}">本局手机版网站</a></li></ul></div>'
        )
        home = self.pages["/"]
        body = home.body.decode("utf-8")
        body = body.replace("手机版</a></div>", f"手机版</a>{menu}</div>", 1)
        hidden = HIDDEN_LINK.format(href=self.url(CASINO))
        body = body.replace("</footer>", f"{hidden}\n</footer>", 1)
        home.body = body.encode("utf-8")
        css = self.pages["/css/main.css"]
        css.body += MENU_CSS.encode("utf-8")

    def casino(self, path: str) -> Reply:
        """The site the 暗链 points to: a gambling page (integrity.outbound_hijacked)."""
        if path not in ("/", "/index.html"):
            return Reply(404, b"Not Found", "text/plain")
        text = (
            '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            "<title>澳门新葡京娱乐城 - 真人视讯 体育投注</title></head><body>"
            "<h1>澳门新葡京娱乐城</h1><p>百家乐、老虎机、体育投注，注册即送彩金。</p>"
            "</body></html>"
        )
        return Reply(body=text.encode("utf-8"))

    # ------------------------------------------------------------ interaction

    def _messages(self) -> None:
        a = self.ago
        late_sent = plain_monday(a(60))
        # (sent, reply or None, status, title, planted name); newest first, as listed.
        # The late reply starts on a holiday-free Monday: 14 working days on any calendar.
        rows: list[tuple[date, date | None, str, str, str]] = [
            (a(3), None, "办理中", "咨询宅基地审批需要哪些材料", ""),
            (a(9), add_workdays(a(9), 2), "已回复", "不动产登记预约电话是多少", ""),
            (a(23), add_workdays(a(23), 3), "已回复", "咨询测绘成果查询方式", ""),
            (late_sent, add_workdays(late_sent, 14), "已回复", "反映小区绿地被占用问题", "late"),
            (a(85), add_workdays(a(85), 4), "已回复", "咨询农村建房规划许可办理地点", ""),
            (a(128), None, "未回复", "反映采石场夜间作业扰民问题", "unanswered"),
            (a(160), add_workdays(a(160), 5), "已回复", "建议公开地质灾害隐患点分布", ""),
        ]
        col = Column(ZXZX, "在线咨询", "互动交流", "iso", parent="/gzcy/")
        self.columns[col.path] = col
        head = "".join(
            f'<th scope="col">{h}</th>' for h in ("标题", "留言时间", "状态", "回复时间")
        )
        cells = []
        for i, (sent, reply, status, title, name) in enumerate(rows):
            path = f"{ZXZX}{sent:%Y%m}/t{sent:%Y%m%d}_{9950 + i}.html"
            body = f"<p>留言时间：{sent:%Y-%m-%d}</p><p>留言内容：{_e(title)}，请予答复。</p>"
            if reply is not None:
                body += (
                    f"<p>回复时间：{reply:%Y-%m-%d}</p>"
                    "<p>回复内容：感谢您的留言，经核实，相关情况答复如下：请携带身份证明"
                    "材料到市民中心自然资源窗口咨询办理。</p>"
                )
            entry = Entry(title, path, sent, body, source="执法监督组")
            col.entries.append(entry)
            self.add_page(path, self.render_article(col, entry))
            cells.append(
                f'<tr><td><a href="{path}">{_e(title)}</a></td><td>{sent:%Y-%m-%d}</td>'
                f"<td>{status}</td><td>{f'{reply:%Y-%m-%d}' if reply else ''}</td></tr>"
            )
            if name:
                self.named[f"zxzx_{name}"] = path
        main = (
            "<h1>在线咨询</h1><p>公开答复群众咨询留言，一般在10个工作日内答复。</p>"
            f'<table class="msg"><caption>咨询留言公开列表</caption><thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(cells)}</tbody></table>"
        )
        self.add_page(
            col.path,
            self.layout(
                col.name,
                main,
                self.column_metas(col),
                self.crumbs_for(col),
                self.footer_variant(col.path),
            ),
        )
        link = f'<li><a href="{ZXZX}">在线咨询</a></li>'
        for path, after in (("/", "局长信箱</a></li>"), ("/gzcy/", "我要写信</a></li>")):
            page = self.pages[path]
            page.body = page.body.replace(after.encode(), (after + link).encode(), 1)
