"""Reading one page: zones, list entries and their dates, breadcrumbs, meta."""

from __future__ import annotations

from datetime import date

from audits.pageinfo import FOOTER, HEADER, MAIN, NAV, PAGER, is_pager_anchor, parse_page
from core.snapshot import Page

TODAY = date(2026, 11, 26)
URL = "http://www.lyzrzy.gov.cn/tzgg/index.html"


def info(body: str, head: str = "", rendered: bool = False, status: int = 200):
    html = f"<html><head><title>通知公告_临沂市自然资源和规划局</title>{head}</head><body>{body}</body></html>"
    return parse_page(Page(URL, URL, status, html=html, rendered=rendered), TODAY)


def dates(pi):
    return [(e.title, e.date) for e in pi.entries]


def test_zones_of_links():
    pi = info(
        "<div id='header'><a href='/'>首页</a></div>"
        "<ul class='nav-main'><li><a href='/xwdt/'>新闻动态</a></li></ul>"
        "<div class='content'><a href='/a.html'>正文链接</a>"
        "<div class='page'><a href='index_1.html'>下一页</a></div></div>"
        "<footer><a href='/lxwm/'>联系我们</a></footer>"
    )
    zones = {a.text: a.zone for a in pi.anchors}
    assert zones == {
        "首页": HEADER,
        "新闻动态": NAV,
        "正文链接": MAIN,
        "下一页": PAGER,
        "联系我们": FOOTER,
    }
    assert [a.href for a in pi.anchors if is_pager_anchor(a)] == [
        "http://www.lyzrzy.gov.cn/tzgg/index_1.html"
    ]


def test_list_entries_and_their_dates():
    pi = info(
        "<div class='top'>今天是2026年11月26日</div>"
        "<ul class='list'>"
        "<li><a href='1.html' title='关于不动产登记窗口调整的公告'>关于不动产登记…</a><span>2026-11-20</span></li>"
        "<li><a href='2.html'>关于开展耕地保护检查的通知</a> [11-02]</li>"
        "<li><a href='3.html'>临沂市国土空间规划公示<span class='date'>2026年10月8日</span></a></li>"
        "<li><a href='4.html'>没有日期的一条信息标题</a></li>"
        "<li><a href='5.html'>更多</a></li>"
        "</ul>"
    )
    assert dates(pi) == [
        ("关于不动产登记窗口调整的公告", date(2026, 11, 20)),
        ("关于开展耕地保护检查的通知", date(2026, 11, 2)),
        ("临沂市国土空间规划公示2026年10月8日", date(2026, 10, 8)),
        ("没有日期的一条信息标题", None),
    ]
    assert pi.entries[0].url == "http://www.lyzrzy.gov.cn/tzgg/1.html"


def test_table_rows_and_menu_rows():
    pi = info(
        "<table><tr><td><a href='/a/'>栏目一</a></td><td><a href='/b/'>栏目二二二二</a></td>"
        "<td><a href='/c/'>栏目三三三三</a></td><td><a href='/d/'>栏目四四四四</a></td>"
        "<td><a href='/e/'>栏目五五五五</a></td></tr>"
        "<tr><td>1</td><td><a href='x.html'>关于征收土地的公告</a></td><td>2026/9/30</td></tr>"
        "</table>"
    )
    assert dates(pi) == [("关于征收土地的公告", date(2026, 9, 30))]


def test_div_lists_need_a_date():
    pi = info(
        "<div class='list'><div class='item'><a href='x.html'>关于征收土地的公告</a>"
        "<em>2026.09.30</em></div><div class='item'><a href='y.html'>一篇没有日期的说明</a></div></div>"
    )
    assert dates(pi) == [("关于征收土地的公告", date(2026, 9, 30))]


def test_breadcrumb_meta_and_pubdate():
    pi = info(
        "<div class='position'>您现在的位置：首页 &gt; 政府信息公开 &gt; 政府信息公开指南</div>"
        "<h1>政府信息公开指南</h1><p>正文</p>",
        head='<meta name="ColumnName" content="政府信息公开指南">'
        '<meta name="PubDate" content="2026-10-09 10:21">',
    )
    assert pi.crumbs == ["首页", "政府信息公开", "政府信息公开指南"]
    assert pi.column_name == "政府信息公开指南"
    assert pi.pubdate == date(2026, 10, 9)
    assert pi.is_article
    assert pi.headings == ["政府信息公开指南"]


def test_labelled_pubdate_in_the_article_bar():
    pi = info("<h1>标题</h1><div class='info'>发布时间：2026-09-30 来源：综合组</div><p>正文</p>")
    assert pi.pubdate == date(2026, 9, 30)


def test_blank_markers_and_script_built_lists():
    assert info("<h1>重大建设项目</h1><p>暂无信息</p>").has_empty_marker
    fill = (
        "<script>var items=[['/a.html','访谈一']];items.forEach(function(it){"
        "document.getElementById('l').innerHTML+='<li><a href=\"'+it[0]+'\">'+it[1]+'</a></li>';"
        "});</script>"
    )
    pi = info("<h1>在线访谈</h1><ul id='l'></ul>" + fill)
    assert pi.scripted and not pi.entries and pi.body_length == 0
    # Rendered in Chromium: the list was filled, so it is read; still empty after the scripts
    # ran (平潭's 规范性文件 list in tests/real: its data did not load), it is not readable.
    rendered = "<ul id='l'><li><a href='/a.html'>访谈一</a> 2026-11-20</li></ul>" + fill
    assert not info(rendered, rendered=True).scripted
    assert info("<ul id='l'></ul>" + fill, rendered=True).scripted
    # an inline script that fills no list (TRS's site-wide SiteInfo) does not make a list
    assert not info("<h1>在线访谈</h1><ul id='l'></ul><script>var items=[1,2];</script>").scripted


def test_unparseable_and_error_pages():
    assert parse_page(Page(URL, URL, 200, html=None), TODAY) is None
    assert parse_page(Page(URL, URL, 200, html="   "), TODAY) is None
    assert info("<p>x</p>", status=404) is None
    xml = '<?xml version="1.0" encoding="gb2312"?><html><body><p>正文</p></body></html>'
    assert parse_page(Page(URL, URL, 200, html=xml), TODAY) is not None
