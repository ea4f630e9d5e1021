"""Self-inspection scorecard: veto items, deductions from config, unchecked and manual items."""

from __future__ import annotations

from core.config import config_from_dict
from core.units import assign_unit
from reports.scorecard import FAIL, MANUAL, PASS, UNCHECKED, compute_scorecard

GOOD = {
    "links.broken_homepage": 0,
    "links.broken_other": 0,
    "columns.homepage_days_since_update": 3,
    "columns.veto_stale_count": 0,
    "columns.long_stale_count": 0,
    "columns.blank_count": 0,
    "availability.figures": {"probes": 1008, "failures": 3, "ratio": 0.003, "checked": True},
    "integrity.pages_checked": 2,
    "interaction.lists_read": 3,
    "wording.checked_chars": 50_000,
    "privacy.checked_chars": 50_000,
}
PLUGINS = ["links", "columns", "availability", "integrity", "interaction", "wording", "privacy"]


def _stale_policy(column: str = "政策文件") -> dict:
    return {
        "rule": "columns.stale",
        "severity": "error",
        "evidence": {"column": column, "category": "政策文件", "days": 200},
    }


def _item(card, prefix):
    return next(i for i in card.items if i.title.startswith(prefix))


def test_clean_site_passes_with_full_score_but_lists_manual_items():
    card = compute_scorecard(config_from_dict({}), GOOD, [], PLUGINS, homepage_ok=True)
    assert card.verdict == "合格" and card.score == 100
    assert not card.unchecked
    assert card.manual and all(i.status == MANUAL for i in card.manual)
    assert any("泄露国家秘密" in i.title for i in card.manual)
    # The probe log, the integrity and the interaction audits measure these veto rows.
    for prefix in (
        "首页一周内不可访问",
        "网站被攻击篡改",
        "政务咨询类留言",
        "出现严重表述错误",
        "泄露个人隐私",
    ):
        assert _item(card, prefix).status == PASS, prefix


def test_availability_integrity_and_interaction_rows_are_measured():
    config = config_from_dict({})
    down = {"probes": 1000, "failures": 60, "ratio": 0.06, "checked": True}
    card = compute_scorecard(config, GOOD | {"availability.figures": down}, [], PLUGINS, True)
    assert _item(card, "首页一周内").status == FAIL and "6.0%" in _item(card, "首页一周内").value
    few = {"probes": 20, "failures": 0, "ratio": 0.0, "checked": False, "covered_hours": 3.2}
    card = compute_scorecard(config, GOOD | {"availability.figures": few}, [], PLUGINS, True)
    assert _item(card, "首页一周内").status == UNCHECKED
    for rule, prefix in (
        ("integrity.hidden_link", "网站被攻击篡改"),
        ("integrity.injected_code", "网站被攻击篡改"),
        ("interaction.unanswered", "政务咨询类留言"),
    ):
        card = compute_scorecard(config, GOOD, [{"rule": rule}], PLUGINS, True)
        assert card.verdict == "不合格" and _item(card, prefix).status == FAIL, rule
    before = {k: v for k, v in GOOD.items() if k.startswith(("links.", "columns."))}
    card = compute_scorecard(config, before, [], ["links", "columns"], True)
    assert all(
        _item(card, p).status == UNCHECKED
        for p in ("首页一周内", "网站被攻击篡改", "政务咨询类留言")
    )


def test_each_veto_item_fails_the_site_at_its_threshold():
    config = config_from_dict({})
    for key, value, prefix in (
        ("columns.homepage_days_since_update", 15, "首页超过14天未更新"),
        ("columns.homepage_days_since_update", None, "首页超过14天未更新"),  # no date at all
        ("columns.veto_stale_count", 5, "动态要闻类"),
        ("columns.long_stale_count", 10, "应更新但长期未更新"),
        ("columns.blank_count", 5, "空白栏目"),
    ):
        card = compute_scorecard(config, GOOD | {key: value}, [], PLUGINS, homepage_ok=True)
        assert card.verdict == "不合格", key
        assert _item(card, prefix).status == FAIL
        assert card.score == 100  # vetoes do not deduct, they fail
    card = compute_scorecard(config, GOOD | {"columns.blank_count": 4}, [], PLUGINS, True)
    assert card.verdict == "合格" and _item(card, "空白栏目").status == PASS
    card = compute_scorecard(config, GOOD, [], PLUGINS, homepage_ok=False)
    assert card.verdict == "不合格" and _item(card, "站点无法访问").status == FAIL


def test_deductions_follow_config_points_and_caps():
    site = GOOD | {"links.broken_homepage": 3, "links.broken_other": 12}
    findings = [_stale_policy("政策文件"), _stale_policy("规范性文件")]
    card = compute_scorecard(config_from_dict({}), site, findings, PLUGINS, True)
    assert card.score == round(100 - 3 * 1 - 12 * 0.1 - 5, 1)  # policy item capped at 5
    config = config_from_dict(
        {
            "report": {
                "scorecard": {
                    "pass_score": 99,
                    "deductions": [
                        {
                            "id": "h",
                            "title": "首页链接不可用",
                            "site_data": "links.broken_homepage",
                            "points": 2,
                            "max_points": 4,
                        },
                    ],
                }
            }
        }
    )
    card = compute_scorecard(config, site, findings, PLUGINS, True)
    assert card.score == 96 and card.verdict == "不合格"  # below the configured pass score


def test_missing_inputs_are_unchecked_never_passed():
    card = compute_scorecard(config_from_dict({}), {}, [], ["links"], homepage_ok=None)
    assert _item(card, "站点无法访问").status == UNCHECKED
    for prefix in ("首页超过", "动态要闻类", "空白栏目", "首页链接不可用", "政策文件栏目"):
        item = _item(card, prefix)
        assert item.status == UNCHECKED, prefix
        assert "未运行" in item.note or "未提供" in item.note or "未抓取" in item.note


def test_units_prefix_column_rule_and_default():
    config = config_from_dict(
        {
            "units": {
                "default": "信息中心",
                "map": [
                    {"rule": "a11y.", "unit": "无障碍组"},
                    {"rule": "links.broken", "prefix": "/czyjs/", "unit": "财务审计组"},
                    {"prefix": "/zwgk/", "unit": "综合组"},
                    {"column": "局长信箱", "unit": "执法监督组"},
                ],
            }
        }
    )
    site = "http://www.x.gov.cn"
    assert (
        assign_unit("a11y.color-contrast", "信息中心", site + "/", site + "/", {}, config)
        == "无障碍组"
    )
    assert (
        assign_unit("links.broken", "信息中心", site + "/a", site + "/czyjs/1.html", {}, config)
        == "财务审计组"
    )
    assert (
        assign_unit("links.timeout", "信息中心", site + "/a", site + "/zwgk/x.html", {}, config)
        == "综合组"
    )
    assert (
        assign_unit("columns.stale", "信息中心", site + "/l/", None, {"column": "局长信箱"}, config)
        == "执法监督组"
    )
    assert (
        assign_unit("columns.blank", "政策法规组", site + "/l/", None, {}, config) == "政策法规组"
    )
    assert assign_unit("x.y", None, None, None, {}, config) == "信息中心"


def test_rows_whose_rules_were_not_checked_are_unchecked_not_passed():
    """A columns.not_checked finding (start page is an article, so the homepage rules were
    not judged; the 空白栏目 row's rule was not checked either) makes those rows 未检测 even
    though the figures alone would pass; a measured failure stays a failure."""
    not_checked = {
        "rule": "columns.not_checked",
        "message": "未能检查……",
        "evidence": {
            "rule": "columns.homepage_stale",
            "rules": ["columns.homepage_stale", "columns.blank"],
            "reason": "起始页面是文章页，不是网站首页；网站首页未抓取",
        },
    }
    policy_unchecked = {
        "rule": "columns.not_checked",
        "evidence": {"rule": "columns.stale", "reason": "栏目列表由脚本生成，未能读取"},
    }
    config = config_from_dict({})
    card = compute_scorecard(config, GOOD, [not_checked], PLUGINS, homepage_ok=True)
    home = _item(card, "首页超过14天未更新")
    assert home.status == UNCHECKED and "起始页面是文章页" in home.note
    assert _item(card, "空白栏目").status == UNCHECKED
    assert _item(card, "动态要闻类").status == PASS  # columns.stale was checked
    assert home in card.unchecked
    # a deduction row driven by a rule that was not checked is not a pass either
    card = compute_scorecard(config, GOOD, [policy_unchecked], PLUGINS, True)
    assert _item(card, "政策文件栏目").status == UNCHECKED
    assert _item(card, "动态要闻类").status == UNCHECKED
    # a failure that was measured is still a failure
    stale = GOOD | {"columns.homepage_days_since_update": 30}
    card = compute_scorecard(config, stale, [not_checked], PLUGINS, True)
    assert _item(card, "首页超过14天未更新").status == FAIL
