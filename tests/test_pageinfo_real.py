"""Page understanding from structure, on saved real pages (tests/real/sites) and on fixtures
that copy their markup: zones, breadcrumbs, list rows, script-built lists, empty columns."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import lxml.html

from audits.pageinfo import CRUMB, FOOTER, MAIN, NAV, SiteChrome, parse_page
from core.scriptlists import has_script_list
from core.snapshot import Page

SITES = Path(__file__).parent / "real" / "sites"
TODAY = date(2026, 9, 10)
NB = "www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.html"
ZN = "www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgkzn/index.html"
ZWGK = "www.pingtan.gov.cn/zwgk/index.html"
ARTICLE = "www.pingtan.gov.cn/zwgk/zfxxgk/fdzdgknr/zkly/rsrm/202602/t20260205_105069.htm"
NFRA = "www.nfra.gov.cn/cn/view/pages/ItemDetail.html?docId=1212085&itemId=4114&generaltype=9"
HD = "hdzfxxgk.hd.gov.cn/index.html"


def html_of(rel: str) -> str:
    raw = (SITES / rel).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def url_of(rel: str) -> str:
    url = "https://" + rel
    return url[: -len("index.html")] if url.endswith("/index.html") else url


def parse(rel: str, html: str | None = None, **kw):
    url = url_of(rel)
    return parse_page(Page(url, url, 200, html=html or html_of(rel)), TODAY, **kw)


# -- point 2: zones from structure ---------------------------------------------------


def test_list_rows_with_a_utility_left_class_are_read_with_their_dates():
    """pingtan 年报 list: ``<dl><dd class="trt-col-sm-24 slb-trt-col-24 text_align_left">
    <a … title="平潭综合实验区2025年度政府信息公开工作年度报告">…</a></dd><dd class="trt-col-4 …
    text_align_left">2026-03-10</dd></dl>``: ``text_align_left`` is no left menu, and the
    date is in the sibling ``<dd>``."""
    info = parse(NB)
    got = [(e.title, e.date) for e in info.entries]
    assert len(got) == 10
    assert got[0] == ("平潭综合实验区2025年度政府信息公开工作年度报告", date(2026, 3, 10))
    assert got[-1] == ("平潭综合实验区2016年度政府信息公开工作年度报告", date(2017, 1, 18))
    zones = {a.text: a.zone for a in info.anchors}
    assert zones["平潭综合实验区2025年度政府信息公开工作年度报告"] == MAIN


def test_navigation_tiles_classed_weizhi_are_not_a_breadcrumb():
    """nfra: ``<a … class="weizhi"><span class="weizhi-text-top">政府信息</span>
    <span class="weizhi-text-bottom">公开指南</span></a>`` tiles are navigation; the real
    breadcrumb is 首页 > 政务信息 > 行政处罚 > 监管局本级."""
    info = parse(NFRA)
    assert info.crumbs == ["首页", "政务信息", "行政处罚", "监管局本级"]
    tiles = [a for a in info.anchors if a.text.replace(" ", "") == "政府信息公开指南"]
    assert tiles and all(a.zone != CRUMB for a in tiles)


def test_breadcrumb_with_icon_separators_is_split_into_names():
    """pingtan article: ``<span><i class="trt-iconfont trt-icon-weizhi"></i>当前位置：</span>
    <a>首页</a><i …></i><a>政务公开</a>…`` — separators are icons, not text."""
    info = parse(ARTICLE)
    assert info.crumbs == [
        "首页",
        "政务公开",
        "政府信息公开",
        "法定主动公开内容",
        "招考录用",
        "人事任免",
    ]


def test_left_column_classed_left_is_navigation_by_structure_and_footer_is_found():
    """邯郸 platform: ``<div class="sx-c1-left">`` holds the four parts of 政府信息公开 as a
    menu of short links (navigation by link density); its footer has no footer landmark
    but ends the page with the identity lines (网站标识码, 冀ICP备, 公网安备)."""
    info = parse(HD)
    zones = {a.text: a.zone for a in info.anchors}
    assert zones["政府信息公开指南"] == NAV
    assert zones["政府信息公开年报"] == NAV
    assert "网站标识码" in info.footer_text and "冀ICP备05029117号-1" in info.footer_text
    assert len(info.entries) >= 40  # the dated 近期信息公开 rows stay content


def test_footer_and_site_chrome_from_repetition():
    """A block whose links repeat on most pages of the site is chrome even without any
    landmark, class or identity line; the page's own list stays main."""
    menu = "".join(f"<li><a href='/c{i}/'>栏目名称{i}</a></li>" for i in range(6))

    def page(n: int) -> str:
        rows = "".join(
            f"<li><a href='/a/{n}{i}.html'>关于第{n}批第{i}项工作的通知公告</a> 2026-0{i + 1}-0{n}</li>"
            for i in range(3)
        )
        return f"<html><body><div><ul>{menu}</ul></div><div><ul>{rows}</ul></div></body></html>"

    roots = [(lxml.html.fromstring(page(n)), "http://x.gov.cn/") for n in range(1, 5)]
    chrome = SiteChrome.from_roots(roots)
    assert len(chrome.signatures) == 1
    url = "http://x.gov.cn/c1/"
    info = parse_page(Page(url, url, 200, html=page(1)), TODAY, chrome=chrome)
    assert {a.zone for a in info.anchors if a.text.startswith("栏目名称")} == {NAV}
    assert len(info.entries) == 3
    assert SiteChrome.from_roots(roots[:2]).signatures == frozenset()  # too few pages


# -- point 3: script-built lists ----------------------------------------------------


def test_site_wide_script_does_not_make_a_page_script_built():
    """TRS/avalon pages end with ``var SiteInfo = {…}`` and carry avalon filter templates
    (``<a ms-repeat="hotWords" href="javascript:;" ms-text="el.title">``): the guide page
    (2,000 characters, no list) and the 年报 list are read from their HTML."""
    for rel in (ZN, NB, ZWGK):
        info = parse(rel)
        assert not info.scripted, rel
        assert not has_script_list(html_of(rel)), rel
    assert parse(ZN).body_length > 1500


def test_avalon_template_with_no_rendered_rows_is_script_built():
    """pingtan 年报 page with its static rows removed: only the avalon template remains,
    ``<dl ms-repeat="list"><dd><a ms-attr-href="el.chnldocurl" ms-text="el.doctitle|html">``."""
    html = html_of(NB)
    static = re.compile(
        r'<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic">.*?</div>', re.S
    )
    assert static.search(html)
    html = static.sub("", html, count=1)
    info = parse(NB, html)
    assert info.scripted and info.script_lists >= 1 and not info.entries
    assert has_script_list(html)


# -- point 8: an empty column page, whatever its metas -------------------------------


def _empty_nb() -> str:
    """The pingtan 年报 page (TRS) without its ColumnName metas, its rows replaced by the
    empty state TRS column pages show: ``<div class="no_data">暂无信息</div>``."""
    html = html_of(NB)
    html = re.sub(r'<meta name="Column\w+" content="[^"]*"/>', "", html)
    html = re.sub(r"<dl>\s*<dd class=\"trt-col-sm-24.*?</dl>", "", html, flags=re.S)
    return html.replace(
        '<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic">',
        '<div class="rules_tabs_01 rules_tabs_no_bg" ms-visible="showStatic"><div class="no_data">暂无信息</div>',
        1,
    )


def test_a_column_page_with_only_an_empty_marker_is_an_empty_column():
    info = parse(NB, _empty_nb())
    assert info.column_name == "" and not info.entries
    assert info.empty_column


def test_pages_with_content_are_not_empty_columns():
    assert not parse(NB).empty_column  # rows
    assert not parse(ZN).empty_column  # a guide text
    url = "http://x.gov.cn/a.html"
    article = (
        "<html><body><h1>关于数据开放的说明</h1><p>"
        + "对于申请公开的信息，如暂无信息可提供，行政机关应当告知申请人并说明理由。" * 4
        + "</p></body></html>"
    )
    assert not parse_page(Page(url, url, 200, html=article), TODAY).empty_column


def test_footer_identity_lines_stay_footer_on_real_pages():
    for rel in (NB, ZN, ARTICLE, HD):
        info = parse(rel)
        assert any(a.zone == FOOTER for a in info.anchors), rel
        assert "ICP" in info.footer_text or "网站标识码" in info.footer_text, rel


def test_an_index_page_keeps_its_link_list_as_content():
    """邯郸 guide page: no text of its own, a side menu (sideMenu, 11 links) and the index
    ``<div class="scroll_tit"><span>市政府部门</span></div><div class="scroll_con"><ul>
    <li><a …>市政府办公室</a></li> …`` (44 departments): the index is the page's content
    (not navigation, not a blank page); the bottom site map is not the footer."""
    info = parse("hdzfxxgk.hd.gov.cn/zfxxgkzn/index.html")
    titles = [e.title for e in info.entries]
    assert titles[:2] == ["市政府办公室", "市发展改革委"] and len(titles) >= 40
    assert not info.empty_column
    home = parse(HD)
    sitemap = [a for a in home.anchors if a.text == "政府信息公开"]
    assert sitemap and all(a.zone == NAV for a in sitemap)


def test_a_mega_menu_at_the_top_is_not_the_article():
    """nfra: ``<div class="header-container"><div class="nav">…<div class="nav-panel">``
    holds the site's mega menu, with dated news items; it is the first block of the page
    and the article follows it, so its text is not the article's."""
    info = parse(NFRA)
    assert info.body_length < 1500
    assert "王泽平" not in info.main_text  # a news title of the menu
    assert info.pubdate == date(2025, 6, 3)
