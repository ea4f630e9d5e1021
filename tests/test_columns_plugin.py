"""columns plugin over stored snapshots of small bureau sites (fixed clock)."""

from __future__ import annotations

from tests.disclosure_site import (
    HOME,
    NAV_ITEMS,
    ago,
    article,
    audit,
    by_rule,
    column_list,
    good_site,
    layout,
)


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


def _with_nav(pages: dict[str, str], nav: list[tuple[str, str]]) -> dict[str, str]:
    """Re-render the homepage with another navigation."""
    home_body = (
        pages["/"].split('<div class="content">', 1)[1].split('</div><div class="footer">')[0]
    )
    out = dict(pages)
    out["/"] = layout("临沂市自然资源和规划局", home_body, nav=nav)
    return out


def test_near_name_is_reported_as_misnamed_and_parts_still_checked(tmp_path):
    nav = [(h, "政务公开" if t == "政府信息公开" else t) for h, t in NAV_ITEMS]
    result = audit(tmp_path, _with_nav(good_site(), nav), ["columns"])
    (f,) = by_rule(result, "columns.disclosure_misnamed")
    assert f["evidence"]["found"] == "政务公开"
    assert f["evidence"]["found_url"].endswith("/zwgk/")
    assert "政务公开" in f["message"] and "政府信息公开" in f["message"]
    assert f["severity"] == "error" and f["unit"] == "信息中心"
    assert not by_rule(result, "columns.disclosure_missing")
    assert not by_rule(result, "columns.part_missing")


def test_missing_disclosure_column(tmp_path):
    nav = [(h, t) for h, t in NAV_ITEMS if t != "政府信息公开"]
    result = audit(tmp_path, _with_nav(good_site(), nav), ["columns"])
    (f,) = by_rule(result, "columns.disclosure_missing")
    assert f["url"] == HOME
    assert not by_rule(result, "columns.disclosure_misnamed")
    assert not by_rule(result, "columns.part_missing")


def test_missing_parts_are_named(tmp_path):
    pages = good_site()
    pages["/zwgk/"] = (
        pages["/zwgk/"]
        .replace("<li><a href='/zwgk/zd/'>政府信息公开制度</a></li>", "")
        .replace("<li><a href='/zwgk/nb/'>政府信息公开年报</a></li>", "")
    )
    del pages["/zwgk/zd/"], pages["/zwgk/nb/"]
    result = audit(tmp_path, pages, ["columns"])
    parts = sorted(f["evidence"]["part"] for f in by_rule(result, "columns.part_missing"))
    assert parts == ["政府信息公开制度", "政府信息公开工作年度报告"]
    assert all(f["url"].endswith("/zwgk/") for f in by_rule(result, "columns.part_missing"))


def test_required_columns_missing_go_to_their_units(tmp_path):
    pages = good_site()
    pages["/zwgk/"] = (
        pages["/zwgk/"]
        .replace("<li><a href='/zwgk/hygk/'>会议公开</a></li>", "")
        .replace("<li><a href='/zwgk/czyjs/'>财政预决算</a></li>", "")
    )
    for p in ("/zwgk/hygk/", "/zwgk/czyjs/", "/hdjl/", "/hdjl/jzxx/"):
        del pages[p]
    # the bureau's own list (the default is the national one: 政策解读, 互动交流)
    result = audit(tmp_path, pages, ["columns"], {"columns": {"required_columns": "work_plan"}})
    found = {f["evidence"]["column"]: f for f in by_rule(result, "columns.required_missing")}
    assert set(found) == {"会议公开", "财政预决算", "局长信箱"}
    assert found["会议公开"]["unit"] == "综合组"
    assert found["财政预决算"]["unit"] == "财务审计组"
    assert found["局长信箱"]["unit"] == "执法监督组"
    assert found["会议公开"]["severity"] == "warning"


def test_unit_map_by_column_overrides_the_default(tmp_path):
    pages = good_site()
    del pages["/hdjl/jzxx/"], pages["/hdjl/"]
    result = audit(
        tmp_path,
        pages,
        ["columns"],
        {"columns": {"required_columns": "work_plan"}},
        units_map=[{"column": "局长信箱", "unit": "办公室"}],
    )
    (f,) = by_rule(result, "columns.required_missing")
    assert f["unit"] == "办公室"


def test_blank_and_stale_columns(tmp_path):
    pages = good_site()
    nav = NAV_ITEMS + [("/rsxx/", "人事信息"), ("/zcwj/", "政策文件"), ("/gzdt/", "工作动态")]
    pages = _with_nav(pages, nav)
    pages["/xwdt/"] = column_list(
        "新闻动态", [("/xwdt/1.html", "局领导调研国土空间规划工作", ago(20))]
    )
    pages["/tzgg/"] = column_list(
        "通知公告", [("/tzgg/1.html", "关于不动产登记窗口调整的公告", ago(181))]
    )
    pages["/rsxx/"] = column_list("人事信息", [("/rsxx/1.html", "干部任前公示", ago(400))])
    pages["/zcwj/"] = column_list("政策文件", [("/zcwj/9.html", "临沂市国土空间规划管理办法", "")])
    pages["/gzdt/"] = layout(
        "工作动态",
        "<h2>工作动态</h2><ul class='list'></ul><p>暂无信息</p>",
        meta='<meta name="ColumnName" content="工作动态">',
        crumbs="工作动态",
    )
    result = audit(tmp_path, pages, ["columns"])
    stale = {f["evidence"]["column"]: f for f in by_rule(result, "columns.stale")}
    assert set(stale) == {"新闻动态", "通知公告", "人事信息", "政策文件"}
    assert stale["新闻动态"]["severity"] == "error"
    assert stale["新闻动态"]["evidence"]["days"] == 20
    assert stale["新闻动态"]["evidence"]["limit_days"] == 14
    assert stale["新闻动态"]["url"].endswith("/xwdt/")
    assert stale["通知公告"]["evidence"]["limit_days"] == 180
    assert stale["人事信息"]["severity"] == "warning"
    assert stale["人事信息"]["evidence"]["limit_days"] == 365
    assert stale["政策文件"]["evidence"]["newest"] is None  # undated counts as not updated
    assert "均未标注发布日期" in stale["政策文件"]["message"]
    (blank,) = by_rule(result, "columns.blank")
    assert blank["evidence"]["column"] == "工作动态" and blank["url"].endswith("/gzdt/")
    data = result.site_data
    assert data["columns.veto_stale_count"] == 3
    assert data["columns.long_stale_count"] == 1
    assert data["columns.blank_count"] == 1
    rows = {r[0]: r for r in data["columns.table"]["rows"]}
    assert rows["工作动态"][5] == "空白栏目"
    assert rows["新闻动态"][3] == ago(20) and rows["新闻动态"][4] == 20


def test_undated_list_entries_use_the_article_pubdate(tmp_path):
    pages = good_site()
    pages["/tzgg/"] = column_list(
        "通知公告", [("/tzgg/1.html", "关于不动产登记窗口调整的公告", "")]
    )
    pages["/tzgg/1.html"] = article("关于不动产登记窗口调整的公告", ago(10), "<p>正文</p>")
    result = audit(tmp_path, pages, ["columns"])
    assert not by_rule(result, "columns.stale")


def test_thresholds_and_categories_are_configurable(tmp_path):
    pages = good_site()
    pages["/tzgg/"] = column_list("通知公告", [("/tzgg/1.html", "关于窗口调整的公告", ago(100))])
    options = {
        "columns": {
            "categories": [
                {"name": "通知公告", "keywords": ["公告"], "limit_days": 90, "severity": "warning"}
            ],
            "column_categories": {"新闻动态": ""},
        }
    }
    result = audit(tmp_path, pages, ["columns"], options)
    (f,) = by_rule(result, "columns.stale")
    assert f["evidence"]["column"] == "通知公告" and f["severity"] == "warning"
    assert f["evidence"]["limit_days"] == 90


def test_unknown_option_is_a_clear_error(tmp_path):
    import pytest

    from core.config import ConfigError

    with pytest.raises(ConfigError, match="plugins.columns.stale_days"):
        audit(tmp_path, good_site(), ["columns"], {"columns": {"stale_days": 3}})


def test_homepage_not_updated(tmp_path):
    pages = good_site()
    pages["/"] = (
        pages["/"]
        .replace(f"[{ago(1)[5:]}]", f"[{ago(30)[5:]}]")
        .replace(f"[{ago(3)[5:]}]", f"[{ago(16)[5:]}]")
    )
    result = audit(tmp_path, pages, ["columns"])
    (f,) = by_rule(result, "columns.homepage_stale")
    assert f["evidence"]["days"] == 16 and f["url"] == HOME
    assert result.site_data["columns.homepage_days_since_update"] == 16


def test_homepage_without_any_date_is_stale(tmp_path):
    pages = good_site()
    pages["/"] = layout(
        "首页", "<ul><li><a href='/xwdt/1.html'>局领导调研国土空间规划工作</a></li></ul>"
    )
    pages["/xwdt/1.html"] = article("局领导调研国土空间规划工作", None, "<p>正文</p>")
    result = audit(tmp_path, pages, ["columns"])
    (f,) = by_rule(result, "columns.homepage_stale")
    assert f["evidence"]["newest"] is None
    assert result.site_data["columns.homepage_days_since_update"] is None


def test_single_page_and_script_built_columns_are_not_blank(tmp_path):
    pages = good_site()
    nav = NAV_ITEMS + [("/jgzn/", "机构职能"), ("/zxft/", "在线访谈"), ("/zdxm/", "重大项目")]
    pages = _with_nav(pages, nav)
    meta = '<meta name="ColumnName" content="{}">'
    pages["/jgzn/"] = layout(
        "机构职能",
        "<h1>机构职能</h1><p>贯彻执行国家、省自然资源和国土空间规划的法律法规。</p>",
        meta=meta.format("机构职能"),
    )
    pages["/zxft/"] = layout(
        "在线访谈",
        "<h1>在线访谈</h1><ul id='ft'></ul><script>var items=[{t:'局长在线'}];</script>",
        meta=meta.format("在线访谈"),
    )
    pages["/zdxm/"] = layout("重大项目", "<h1>重大项目</h1>", meta=meta.format("重大项目"))
    result = audit(tmp_path, pages, ["columns"])
    blank = [f["evidence"]["column"] for f in by_rule(result, "columns.blank")]
    assert blank == ["重大项目"]  # nothing but its heading
    rows = {r[0]: r for r in result.site_data["columns.table"]["rows"]}
    assert rows["在线访谈"][5] == "列表由脚本生成，未能检查"


def test_old_table_layout_site(tmp_path):
    """A 2010-style site: navigation and lists in tables, no class names, GBK-era dates."""
    nav = (
        "<table><tr>"
        + "".join(
            f"<td><a href='{h}'>{t}</a></td>"
            for h, t in [("/", "首页"), ("/gzdt/", "工作动态"), ("/xxgk/", "政务公开")]
        )
        + "</tr></table>"
    )
    rows = "".join(
        f"<tr><td>·<a href='/gzdt/{i}.htm'>市局召开土地例会第{i}次会议</a></td><td>{d}</td></tr>"
        for i, d in ((1, "2026年11月20日"), (2, "2026年10月1日"))
    )
    pages = {
        "/": f"<html><head><title>某局</title></head><body>{nav}<table>{rows}</table>"
        "<p>主办单位：某局 电话：0539-8012345</p></body></html>",
        "/gzdt/": f"<html><head><title>工作动态</title></head><body>{nav}<table>{rows}</table></body></html>",
        "/xxgk/": f"<html><head><title>政务公开</title></head><body>{nav}<p>内容</p></body></html>",
    }
    result = audit(tmp_path, pages, ["columns"])
    (misnamed,) = by_rule(result, "columns.disclosure_misnamed")
    assert misnamed["evidence"]["found"] == "政务公开"
    assert result.site_data["columns.homepage_days_since_update"] == 6
    assert not by_rule(result, "columns.stale")
    assert {f["evidence"]["part"] for f in by_rule(result, "columns.part_missing")} == {
        "政府信息公开指南",
        "政府信息公开制度",
        "法定主动公开内容",
        "政府信息公开工作年度报告",
    }


def test_a_footer_link_does_not_hide_a_misnamed_navigation_entry(tmp_path):
    nav = [(h, "政务公开" if t == "政府信息公开" else t) for h, t in NAV_ITEMS]
    pages = _with_nav(good_site(), nav)
    pages["/"] = pages["/"].replace(
        "<p>Copyright", "<p><a href='/zwgk/'>政府信息公开</a></p><p>Copyright"
    )
    result = audit(tmp_path, pages, ["columns"])
    (f,) = by_rule(result, "columns.disclosure_misnamed")
    assert f["evidence"]["where"] == "首页导航"
