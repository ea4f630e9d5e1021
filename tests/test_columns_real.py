"""The columns audit on saved real pages (tests/real) and on fixtures copying their patterns.

Issue 12 points 4 (columns part) and 7: a check that cannot be made is columns.not_checked
with its reason, never a silent pass or a false finding; required columns are name sets.
"""

from __future__ import annotations

from datetime import date

import pytest

from core.config import ConfigError
from tests.disclosure_site import audit, by_rule, good_site
from tests.realsnap import audit_real

HOMEPAGE_RULES = {
    "columns.disclosure_missing",
    "columns.disclosure_misnamed",
    "columns.required_missing",
    "columns.homepage_stale",
}
WORK_PLAN = {"columns": {"required_columns": "work_plan"}}


def test_pingtan_required_columns_are_found_under_their_real_names():
    """www.pingtan.gov.cn/zwgk/: <a href="https://www.pingtan.gov.cn/zwgk/zfhy/">政府会议</a>,
    <a …/hdjl/>互动交流</a>, <a …/hdjl/myzj/>民意征集</a>, <a href="./zdlyxxgk/czzj/">财政资金</a>,
    <a …/jdhy/zcjd/>平潭政策解读</a>, <a href="./zdlyxxgk/yata/">议案提案</a>."""
    result = audit_real("www.pingtan.gov.cn", ["columns"], date(2026, 9, 10), options=WORK_PLAN)
    found = result.site_data["columns.required_found"]
    assert found["会议公开"] == "政府会议"
    assert found["公众参与"] == "互动交流"
    assert found["财政预决算"] == "财政资金"
    assert found["政策解读"] == "平潭政策解读"
    assert found["重点领域信息公开"] == "重点领域信息公开"
    assert found["建议提案办理"] == "议案提案"
    missing = {f["evidence"]["column"] for f in by_rule(result, "columns.required_missing")}
    assert missing <= {"局长信箱", "意见征集"}  # not on the saved page under any name
    rows = {r[0]: r for r in result.site_data["columns.required.table"]["rows"]}
    assert rows["会议公开"][2] == "政府会议" and rows["会议公开"][3] == "已设置"
    # the four parts are linked by the 政府信息公开专栏 block of the start page; the column
    # page itself (./zfxxgk/) was not saved: not a missing part, not a silence either
    assert not by_rule(result, "columns.part_missing")
    assert not by_rule(result, "columns.disclosure_missing")


def test_national_list_is_the_default():
    result = audit_real("www.pingtan.gov.cn", ["columns"], date(2026, 9, 10))
    assert set(result.site_data["columns.required_found"]) == {"政策解读", "互动交流"}
    assert not by_rule(result, "columns.required_missing")


def test_hd_platform_home_is_the_disclosure_column():
    """hdzfxxgk.hd.gov.cn is the 政府信息公开 platform itself (<meta name="ColumnName"
    content="邯郸市政府信息公开">); its exact entrance is in the fat footer (<li><a
    href="http://hdzfxxgk.hd.gov.cn/">政府信息公开</a></li>), so 市政府部门信息公开 in the left
    column is not the column under another name. 常务会议 is its 会议公开. The 指南 page is an
    index of department guides, not a blank column."""
    result = audit_real("hdzfxxgk.hd.gov.cn", ["columns"], date(2020, 8, 12), options=WORK_PLAN)
    assert not by_rule(result, "columns.disclosure_misnamed")
    assert not by_rule(result, "columns.disclosure_missing")
    assert not by_rule(result, "columns.part_missing")
    assert not by_rule(result, "columns.blank")
    assert result.site_data["columns.required_found"]["会议公开"] == "常务会议"


@pytest.mark.parametrize(
    ("host", "today"),
    [
        ("www.ccgp-hebei.gov.cn", date(2021, 10, 21)),  # ArticleTitle/PubDate metas
        ("www.cmse.gov.cn", date(2021, 2, 17)),  # no metas: …/201206/t20120624_43188.html
    ],
)
def test_article_start_page_does_not_judge_homepage_rules(host, today):
    result = audit_real(host, ["columns"], today)
    assert not [f for f in result.findings if f["rule"] in HOMEPAGE_RULES]
    nc = by_rule(result, "columns.not_checked")
    home = [f for f in nc if "columns.homepage_stale" in f["evidence"]["rules"]]
    assert len(home) == 1 and set(home[0]["evidence"]["rules"]) == HOMEPAGE_RULES
    assert "起始页面是文章页" in home[0]["evidence"]["reason"]
    assert home[0]["severity"] == "info"
    assert "columns.homepage_days_since_update" not in result.site_data  # scorecard: 未检测


def test_nmg_disclosure_entrance_not_crawled_is_not_checked():
    """www.nmg.gov.cn article: nav <a href="../../../zwgk/">政务公开</a>; that page was not
    saved, so the four parts cannot be judged from this run."""
    result = audit_real("www.nmg.gov.cn", ["columns"], date(2022, 3, 14))
    assert not by_rule(result, "columns.part_missing")
    (nc,) = [
        f
        for f in by_rule(result, "columns.not_checked")
        if f["evidence"]["rule"] == "columns.part_missing"
    ]
    assert nc["evidence"]["column_url"] == "https://www.nmg.gov.cn/zwgk/"
    assert "未抓取" in nc["evidence"]["reason"]
    assert "政府信息公开指南" in nc["evidence"]["parts_not_seen"]


def test_dead_disclosure_link_is_not_checked_not_four_missing_parts(tmp_path):
    pages = good_site()
    pages["/zwgk/"] = (404, "<html><title>404</title><body>页面不存在</body></html>")
    result = audit(tmp_path, pages, ["columns"])
    assert not by_rule(result, "columns.part_missing")
    (nc,) = by_rule(result, "columns.not_checked")
    assert nc["evidence"]["rule"] == "columns.part_missing"
    assert "链接失效" in nc["evidence"]["reason"] and "404" in nc["evidence"]["reason"]
    assert nc["url"].endswith("/zwgk/")


def test_required_columns_accept_name_sets_and_the_old_tables(tmp_path):
    pages = good_site()
    options = {
        "columns": {
            "required_columns": [["会议公开", "政府会议", "常务会议"], "领导之窗", ["政策解读"]]
        }
    }
    result = audit(tmp_path, pages, ["columns"], options)
    missing = {f["evidence"]["column"]: f for f in by_rule(result, "columns.required_missing")}
    assert set(missing) == {"领导之窗"}
    assert missing["领导之窗"]["evidence"]["accepted"] == ["领导之窗"]
    assert result.site_data["columns.required_found"]["会议公开"] == "会议公开"
    old = {
        "columns": {
            "required_columns": [
                {"name": "常务会议", "variants": ["会议公开"], "unit": "综合组"},
                {"name": "局长信箱", "names": ["领导信箱"], "unit": "执法监督组"},
            ]
        }
    }
    result = audit(tmp_path, pages, ["columns"], old)
    assert not by_rule(result, "columns.required_missing")
    assert result.site_data["columns.required_found"]["常务会议"] == "会议公开"


@pytest.mark.parametrize("bad", [5, "bureau", [["会议公开", 3]], [[]]])
def test_bad_required_columns_name_the_key_and_the_fix(tmp_path, bad):
    with pytest.raises(ConfigError) as err:
        audit(tmp_path, good_site(), ["columns"], {"columns": {"required_columns": bad}})
    text = str(err.value)
    assert "plugins.columns.required_columns" in text
    assert "work_plan" in text and "name sets" in text
