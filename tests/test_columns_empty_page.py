"""A column page that says only 暂无信息, linked from the homepage body, with no ColumnName
meta and no list, is a blank column (空白栏目): PageInfo.empty_column lets the column tree
take it in (point 8 of issue 12).

The empty page copies the empty state of TRS column pages (the pingtan 年报 page's list
area, tests/real/sites/www.pingtan.gov.cn/zwgk/zfxxgk/zfxxgknb/index.html, with its rows
gone): ``<div class="rules_tabs_01"><div class="no_data">暂无信息</div></div>``.
"""

from __future__ import annotations

from tests.disclosure_site import audit, by_rule, good_site, layout

EMPTY = (
    "<h2>扫黑除恶专项斗争</h2><div class='rules_tabs_01 rules_tabs_no_bg'>"
    "<div class='no_data'>暂无信息</div></div>"
)


def test_empty_page_linked_from_the_homepage_body_is_a_blank_column(tmp_path):
    pages = good_site()
    block = (
        "<div class='box'><h3>专题专栏</h3><ul>"
        "<li><a href='/ztzl/shce/'>扫黑除恶专项斗争</a></li></ul></div>"
    )
    pages["/"] = pages["/"].replace("<div class='box'>", block + "<div class='box'>", 1)
    pages["/ztzl/shce/"] = layout("扫黑除恶专项斗争", EMPTY)  # no ColumnName meta
    result = audit(tmp_path, pages, ["columns"])
    blank = by_rule(result, "columns.blank")
    assert [f["evidence"]["column"] for f in blank] == ["扫黑除恶专项斗争"]
    assert result.site_data["columns.blank_count"] == 1


def test_a_page_with_text_linked_the_same_way_is_not_taken_for_a_column(tmp_path):
    pages = good_site()
    block = "<div class='box'><ul><li><a href='/ztzl/shce/'>扫黑除恶专项斗争</a></li></ul></div>"
    pages["/"] = pages["/"].replace("<div class='box'>", block + "<div class='box'>", 1)
    text = (
        "<h2>扫黑除恶专项斗争</h2><p>"
        + "依法严厉打击各类违法犯罪活动，维护社会稳定。" * 10
        + "</p>"
    )
    pages["/ztzl/shce/"] = layout("扫黑除恶专项斗争", text)
    result = audit(tmp_path, pages, ["columns"])
    assert not by_rule(result, "columns.blank")
