"""columns plugin over stored snapshots of small bureau sites (fixed clock)."""

from __future__ import annotations

from tests.disclosure_site import (
    NAV_ITEMS,
    ago,
    article,
    audit,
    column_list,
    layout,
)

GUIDE_TEXT = "本指南根据《中华人民共和国政府信息公开条例》编制。" * 10


def good_site() -> dict[str, str]:
    home_body = (
        "<div class='box'><h3>新闻动态</h3><ul>"
        + "".join(
            f"<li><a href='/xwdt/{i}.html'>局领导调研国土空间规划工作{i}</a><span>[{ago(i)[5:]}]</span></li>"
            for i in (1, 3)
        )
        + "</ul><a href='/xwdt/'>更多</a></div>"
    )
    pages: dict[str, str] = {
        "/": layout("临沂市自然资源和规划局", home_body),
        "/xwdt/": column_list(
            "新闻动态",
            [(f"/xwdt/{i}.html", f"局领导调研国土空间规划工作{i}", ago(i)) for i in (1, 3)],
            extra="<div class='page'><a href='/xwdt/index_1.html'>下一页</a></div>",
        ),
        "/xwdt/index_1.html": column_list(
            "新闻动态", [("/xwdt/9.html", "市局召开耕地保护专题会议", ago(9))]
        ),
        "/tzgg/": column_list(
            "通知公告", [("/tzgg/1.html", "关于不动产登记窗口调整的公告", ago(40))]
        ),
        "/zwgk/": layout(
            "政府信息公开",
            "<div class='left'><ul>"
            "<li><a href='/zwgk/zn/'>政府信息公开指南</a></li>"
            "<li><a href='/zwgk/zd/'>政府信息公开制度</a></li>"
            "<li><a href='/zwgk/fdzdgknr/'>法定主动公开内容</a></li>"
            "<li><a href='/zwgk/nb/'>政府信息公开年报</a></li>"
            "<li><a href='/zwgk/zdly/'>重点领域信息公开</a></li>"
            "<li><a href='/zwgk/gzcy/'>公众参与</a></li>"
            "<li><a href='/zwgk/jyta/'>建议提案办理</a></li>"
            "<li><a href='/zwgk/hygk/'>会议公开</a></li>"
            "<li><a href='/zwgk/yjzj/'>意见征集</a></li>"
            "<li><a href='/zwgk/czyjs/'>财政预决算</a></li>"
            "</ul></div>",
            meta='<meta name="ColumnName" content="政府信息公开">',
            crumbs="政府信息公开",
        ),
        "/zwgk/zn/": article(
            "政府信息公开指南",
            None,
            f"<p>{GUIDE_TEXT}</p><p>更新日期：二〇二六年十月九日</p>",
            "政府信息公开指南",
        ),
        "/zwgk/zd/": column_list(
            "政府信息公开制度", [("/zwgk/zd/1.html", "政府信息公开工作制度", "2024-05-06")]
        ),
        "/zwgk/fdzdgknr/": column_list(
            "法定主动公开内容", [("/zwgk/fdzdgknr/1.html", "机构职能介绍", ago(20))]
        ),
        "/zwgk/nb/": column_list(
            "政府信息公开年报",
            [("/zwgk/nb/2025.html", "2025年政府信息公开工作年度报告", "2026-01-20")],
        ),
        "/zwgk/zdly/": column_list(
            "重点领域信息公开", [("/zwgk/zdly/1.html", "建设项目用地批准信息", ago(5))]
        ),
        "/zwgk/gzcy/": column_list(
            "公众参与", [("/zwgk/gzcy/1.html", "政府开放日活动公告", ago(30))]
        ),
        "/zwgk/jyta/": column_list(
            "建议提案办理", [("/zwgk/jyta/1.html", "对市政协提案第12号的答复", ago(100))]
        ),
        "/zwgk/hygk/": column_list(
            "会议公开", [("/zwgk/hygk/1.html", "局长办公会议题公开", ago(12))]
        ),
        "/zwgk/yjzj/": column_list(
            "意见征集", [("/zwgk/yjzj/1.html", "关于征求规划条例意见的公告", ago(60))]
        ),
        "/zwgk/czyjs/": column_list(
            "财政预决算", [("/zwgk/czyjs/1.html", "2026年部门预算公开", ago(200))]
        ),
        "/zcjd/": column_list(
            "政策解读", [("/zcjd/1.html", "《不动产登记办法》政策解读", ago(10))]
        ),
        "/hdjl/": layout(
            "互动交流",
            "<ul class='sub'><li><a href='/hdjl/jzxx/'>局长信箱</a></li></ul>",
            nav=NAV_ITEMS + [("/hdjl/jzxx/", "局长信箱")],
            crumbs="互动交流",
        ),
        "/hdjl/jzxx/": column_list(
            "局长信箱", [("/hdjl/jzxx/1.html", "关于不动产证办理的咨询", ago(2))]
        ),
        "/xwdt/1.html": article("局领导调研国土空间规划工作1", ago(1), "<p>正文</p>", "新闻动态"),
    }
    return pages


def test_good_site_has_no_findings(tmp_path):
    result = audit(tmp_path, good_site(), ["columns"])
    assert result.findings == []
    data = result.site_data
    assert data["columns.veto_stale_count"] == 0
    assert data["columns.blank_count"] == 0
    assert data["columns.homepage_days_since_update"] == 1
    table = data["columns.table"]
    names = [r[0] for r in table["rows"]]
    assert "新闻动态" in names and "通知公告" in names and "局长信箱" in names
    news = table["rows"][names.index("新闻动态")]
    assert news[2] == 3  # entries from both list pages (pagination followed)
