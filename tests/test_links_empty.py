"""links.empty: links whose text promises a destination but whose href goes nowhere
(issue 12, point 9), on saved real pages (tests/real) and on their markup patterns."""

from __future__ import annotations

from datetime import date

import pytest

from audits.links_empty import empty_links
from tests.realsnap import audit_real, manifest, read_saved

PINGTAN = "https://www.pingtan.gov.cn/zwgk/"


def page(body: str) -> str:
    return f"<html><head><title>t</title></head><body>{body}</body></html>"


def test_the_empty_more_link_on_pingtan_is_reported() -> None:
    """www.pingtan.gov.cn/zwgk/ 统计信息 block:
    <span class="more"><a href="" Target="_blank" title="更多">更多&gt;</a></span>"""
    result = audit_real("www.pingtan.gov.cn", ["links"], date(2026, 9, 10))
    (f,) = [f for f in result.findings if f["rule"] == "links.empty"]
    assert f["page"] == PINGTAN and f["severity"] == "warning"
    assert f["evidence"]["count"] == 1
    assert f["evidence"]["links"] == [{"text": "更多>", "href": "", "why": "words"}]
    assert (f["evidence"]["text"], f["evidence"]["href"]) == ("更多>", "")
    assert "更多" in f["message"]


def test_no_other_saved_real_page_has_an_empty_link() -> None:
    """Menus, tabs, share buttons, 长者模式/无障碍 toggles, the current item of a side menu
    (<li class="on"><a href="javascript:;" class="cur_def">政府信息公开年报</a>, pingtan 年报),
    baidu share (<a href="#" class="bds_tsina" data-cmd="tsina" title="分享到新浪微博">, fgw.zj)
    and nfra's 分享到微信 popup are not destinations."""
    reported = {
        e["url"]: empty_links(read_saved(e["file"]))[1]
        for e in manifest()
        if empty_links(read_saved(e["file"]))[1]
    }
    assert reported == {PINGTAN: 1}


@pytest.mark.parametrize(
    "markup",
    [
        '<div class="more"><a href="#">更多&gt;&gt;</a></div>',
        '<p><a href="javascript:void(0)">查看详情</a></p>',
        '<p><a href="javascript:;" title="下载">  </a></p>',
        '<p>附件：<a href="">2025年部门预算公开表.xlsx</a></p>',
        # a row of a dated list whose title goes nowhere
        '<ul><li><a href="">关于2026年度政府信息公开工作的通知</a><span>2026-03-10</span></li>'
        '<li><a href="/a.html">关于印发工作要点的通知</a><span>2026-03-01</span></li></ul>',
    ],
)
def test_destination_text_without_a_destination_is_found(markup: str) -> None:
    found, total = empty_links(page(markup))
    assert total == 1 and found[0].text


@pytest.mark.parametrize(
    "markup",
    [
        # a tab switch inside a tab strip whose panels are in the page
        '<div class="tabs"><a href="javascript:void(0)" onclick="showTab(2)">政策解读信息公开</a></div>',
        '<ul role="tablist"><li><a href="#">政府信息公开年报</a></li></ul>',
        '<a href="#panel2" aria-controls="panel2">更多</a>',
        '<a href="#" data-toggle="dropdown">更多</a>',
        '<a href="#" role="button">更多</a>',
        # a top-level menu label with its submenu
        '<ul class="nav"><li><a href="#">政府信息公开专栏</a><ul><li><a href="/zn/">指南</a></li></ul></li></ul>',
        '<ul><li><a href="javascript:;">更多</a><div><a href="/a/">A</a><a href="/b/">B</a></div></li></ul>',
        # an icon, avalon/vue templates, a hidden entry, a jQuery-bound button
        '<a href="#"><i class="icon-weixin"></i></a>',
        '<a href="javascript:;" ms-attr-href="el.url">更多</a>',
        '<li ms-for="el in list"><a href="">{{el.title}}</a></li>',
        '<a href="#" style="display:none">更多</a>',
        '<a href="javascript:;" id="more1">更多</a><script>$("#more1").click(load)</script>',
        # 6+ characters that are not a list item: a heading, a toolbar
        '<h3><a href="javascript:;">政府信息公开工作年度报告</a></h3>',
        '<a href="javascript:void(0);" class="aged_link_01">退出长者模式</a>',
        # an in-page anchor and a real address are not empty
        '<a href="#main">跳到主要内容区域查看</a>',
        '<a href="/more/">更多</a>',
    ],
)
def test_script_controls_and_menus_are_not_reported(markup: str) -> None:
    assert empty_links(page(markup)) == ([], 0)


def test_one_finding_per_page_lists_the_links_capped() -> None:
    rows = "".join('<div class="more"><a href="#">更多</a></div>' for _ in range(30))
    found, total = empty_links(page(rows), limit=20)
    assert total == 30 and len(found) == 20
