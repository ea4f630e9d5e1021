"""disclosure_dates plugin: guide, annual report, interpretations, consultations."""

from __future__ import annotations

from datetime import date

from tests.disclosure_site import (
    CONSULT,
    GUIDE_TEXT,
    HOME,
    ago,
    article,
    audit,
    by_rule,
    column_list,
    good_site,
)

PLUGINS = ["disclosure_dates"]


def test_good_site_has_no_findings(tmp_path):
    result = audit(tmp_path, good_site(), PLUGINS)
    assert result.findings == []
    assert result.site_data["disclosure_dates.guide_date"] == "2026-10-09"  # Chinese numerals
    assert 2025 in result.site_data["disclosure_dates.report_years"]


def _guide(body: str) -> dict[str, str]:
    pages = good_site()
    pages["/zwgk/zn/"] = article("政府信息公开指南", None, body, "政府信息公开指南")
    return pages


def test_guide_missing(tmp_path):
    pages = good_site()
    del pages["/zwgk/zn/"]
    pages["/zwgk/"] = pages["/zwgk/"].replace(
        "<li><a href='/zwgk/zn/'>政府信息公开指南</a></li>", ""
    )
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "guide.missing")
    assert f["url"] == HOME and f["severity"] == "error" and f["unit"] == "综合组"


def test_guide_without_update_date(tmp_path):
    result = audit(tmp_path, _guide(f"<p>{GUIDE_TEXT}</p>"), PLUGINS)
    (f,) = by_rule(result, "guide.update_date_missing")
    assert f["url"].endswith("/zwgk/zn/")
    assert not by_rule(result, "guide.update_date_stale")


def test_guide_copyright_and_today_widget_are_not_update_dates(tmp_path):
    # the layout carries "今天是2026年11月26日" and "©2006-2026": neither is an update date
    result = audit(tmp_path, _guide(f"<p>{GUIDE_TEXT}</p><p>版权所有 2006-2026</p>"), PLUGINS)
    assert by_rule(result, "guide.update_date_missing")


def test_guide_update_date_stale(tmp_path):
    result = audit(tmp_path, _guide(f"<p>{GUIDE_TEXT}</p><p>更新时间：2025/8/1</p>"), PLUGINS)
    (f,) = by_rule(result, "guide.update_date_stale")
    assert f["evidence"]["date"] == "2025-08-01"
    assert f["evidence"]["days"] == (date(2026, 11, 26) - date(2025, 8, 1)).days
    assert f["evidence"]["limit_days"] == 365 and f["severity"] == "warning"


def test_guide_signature_date_counts(tmp_path):
    body = f"<p>{GUIDE_TEXT}</p><p>临沂市自然资源和规划局</p><p>二〇二六年三月十日</p>"
    result = audit(tmp_path, _guide(body), PLUGINS)
    assert result.findings == []


def test_guide_age_limit_is_configurable(tmp_path):
    body = f"<p>{GUIDE_TEXT}</p><p>更新日期：2026年9月1日</p>"
    options = {"disclosure_dates": {"guide_max_age_days": 30}}
    result = audit(tmp_path, _guide(body), PLUGINS, options)
    assert by_rule(result, "guide.update_date_stale")


def test_guide_found_through_a_guide_column_list(tmp_path):
    pages = good_site()
    pages["/zwgk/zn/"] = column_list(
        "政府信息公开指南", [("/zwgk/zn/1.html", "临沂市自然资源和规划局政府信息公开指南", "")]
    )
    pages["/zwgk/zn/1.html"] = article(
        "临沂市自然资源和规划局政府信息公开指南", None, f"<p>{GUIDE_TEXT}</p>"
    )
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "guide.update_date_missing")
    assert f["url"].endswith("/zwgk/zn/1.html")


def test_annual_report_missing_after_31_january(tmp_path):
    pages = good_site()
    pages["/zwgk/nb/"] = column_list(
        "政府信息公开年报",
        [("/zwgk/nb/2024.html", "2024年政府信息公开工作年度报告", "2025-01-22")],
    )
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "guide.annual_report_missing")
    assert f["evidence"]["year"] == 2025 and f["evidence"]["found_years"] == [2024]
    # before the deadline the year before is what must be there
    result = audit(tmp_path / "early", pages, PLUGINS, today=date(2026, 1, 30))
    assert not by_rule(result, "guide.annual_report_missing")
    result = audit(tmp_path / "deadline", pages, PLUGINS, today=date(2026, 1, 31))
    assert by_rule(result, "guide.annual_report_missing")


def test_annual_report_year_in_chinese_numerals_or_after_the_name(tmp_path):
    pages = good_site()
    pages["/zwgk/nb/"] = column_list(
        "政府信息公开年报",
        [("/zwgk/nb/a.html", "政府信息公开工作年度报告（2025年度）", "2026-01-20")],
    )
    assert not by_rule(audit(tmp_path, pages, PLUGINS), "guide.annual_report_missing")
    pages["/zwgk/nb/"] = column_list(
        "政府信息公开年报",
        [("/zwgk/nb/b.html", "临沂市自然资源和规划局二〇二五年政府信息公开年报", "")],
    )
    assert not by_rule(audit(tmp_path / "cn", pages, PLUGINS), "guide.annual_report_missing")


def _policy(pages, pub, interp_pub, link=True, title="临沂市不动产登记办法"):
    pages["/zcwj/"] = column_list("政策文件", [("/zcwj/1.html", title, pub)])
    pages["/zcwj/1.html"] = article(
        title,
        pub,
        "<p>第一条……</p><p>起草单位：确权登记组</p>"
        + ("<p><a href='/zcjd/1.html'>相关解读</a></p>" if link else ""),
        "政策文件",
    )
    if interp_pub is None:
        del pages["/zcjd/1.html"]
        pages["/zcjd/"] = column_list("政策解读", [])
    else:
        pages["/zcjd/"] = column_list(
            "政策解读", [("/zcjd/1.html", f"《{title}》政策解读", interp_pub)]
        )
        pages["/zcjd/1.html"] = article(
            f"《{title}》政策解读", interp_pub, "<p>解读</p>", "政策解读"
        )
    return pages


def test_interpretation_late_by_working_days(tmp_path):
    # Sat 2026-11-14 → Mon 2026-11-23: six working days
    pages = _policy(good_site(), ago(12), ago(3))
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.interpretation_late")
    ev = f["evidence"]
    assert ev["working_days"] == 6 and ev["limit_workdays"] == 3
    assert ev["policy_date"] == ago(12) and ev["interpretation_date"] == ago(3)
    assert f["url"].endswith("/zcwj/1.html")
    assert f["evidence"]["interpretation_url"].endswith("/zcjd/1.html")
    assert f["unit"] == "确权登记组"  # the drafting unit named on the policy page
    assert f["severity"] == "warning"


def test_interpretation_matched_by_title_without_a_link(tmp_path):
    pages = _policy(good_site(), ago(12), ago(3), link=False)
    assert by_rule(audit(tmp_path, pages, PLUGINS), "disclosure.interpretation_late")


def test_national_day_holiday_is_not_counted(tmp_path):
    # 2025-09-30 → 2025-10-09: 1-8 October were holidays, so 1 working day, not 6
    options = {"disclosure_dates": {"lookback_days": 0}}
    pages = _policy(good_site(), "2025-09-30", "2025-10-09")
    result = audit(tmp_path, pages, PLUGINS, options)
    assert not by_rule(result, "disclosure.interpretation_late")
    # 2025-09-26 (Fri) → 2025-10-09: the adjusted working Sunday 09-28 counts
    pages = _policy(good_site(), "2025-09-26", "2025-10-09")
    result = audit(tmp_path / "b", pages, PLUGINS, options)
    (f,) = by_rule(result, "disclosure.interpretation_late")
    assert f["evidence"]["working_days"] == 4  # Sun 28 (adjusted), 29, 30 Sep and 9 Oct
    assert "calendar_note" not in f["evidence"]


def test_interpretation_missing_is_info(tmp_path):
    pages = _policy(good_site(), ago(12), None, link=False)
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.interpretation_missing")
    assert f["severity"] == "info" and f["url"].endswith("/zcwj/1.html")
    assert not by_rule(result, "disclosure.interpretation_late")


def _consultation(pages, text, pub="2026-10-01", feedback=False):
    items = [("/zwgk/yjzj/1.html", f"关于公开征求{CONSULT}意见的公告", pub)]
    if feedback:
        items.insert(0, ("/zwgk/yjzj/2.html", f"{CONSULT}意见采纳情况反馈", "2026-11-01"))
    else:
        del pages["/zwgk/yjzj/2.html"]
    pages["/zwgk/yjzj/"] = column_list("意见征集", items)
    pages["/zwgk/yjzj/1.html"] = article(
        f"关于公开征求{CONSULT}意见的公告", pub, f"<p>{text}</p>", "意见征集"
    )
    return pages


def test_consultation_short_and_without_feedback(tmp_path):
    pages = _consultation(good_site(), "征求意见时间：2026年10月1日至10月15日。")
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.consultation_short")
    assert f["evidence"]["days"] == 15 and f["evidence"]["start"] == "2026-10-01"
    assert f["evidence"]["end"] == "2026-10-15" and f["severity"] == "warning"
    (g,) = by_rule(result, "disclosure.consultation_no_feedback")
    assert g["severity"] == "info" and g["url"].endswith("/zwgk/yjzj/1.html")


def test_consultation_stated_as_a_duration_or_deadline(tmp_path):
    pages = _consultation(good_site(), "征求意见期限为15天，请于期限内反馈。", feedback=True)
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.consultation_short")
    assert f["evidence"]["days"] == 15
    assert not by_rule(result, "disclosure.consultation_no_feedback")
    pages = _consultation(good_site(), "意见反馈截止时间为2026年10月31日。", feedback=True)
    result = audit(tmp_path / "b", pages, PLUGINS)
    assert not by_rule(result, "disclosure.consultation_short")  # 1–31 October: 31 days


def test_open_consultation_needs_no_feedback_yet(tmp_path):
    pages = _consultation(
        good_site(), "征求意见时间为2026年11月20日至2026年12月20日。", pub="2026-11-20"
    )
    result = audit(tmp_path, pages, PLUGINS)
    assert not by_rule(result, "disclosure.consultation_short")
    assert not by_rule(result, "disclosure.consultation_no_feedback")


def test_old_policies_and_consultations_are_outside_the_window(tmp_path):
    pages = _policy(good_site(), "2024-03-01", "2024-03-20")
    pages = _consultation(pages, "征求意见时间：2024年10月1日至10月15日。", pub="2024-10-01")
    result = audit(tmp_path, pages, PLUGINS)
    assert not [f for f in result.findings if f["rule"].startswith("disclosure.")]
    result = audit(tmp_path, pages, PLUGINS, {"disclosure_dates": {"lookback_days": 1000}})
    assert by_rule(result, "disclosure.interpretation_late")
    assert by_rule(result, "disclosure.consultation_short")


def test_bad_deadline_option_is_a_clear_error(tmp_path):
    import pytest

    from core.config import ConfigError

    with pytest.raises(ConfigError, match="report_deadline"):
        audit(tmp_path, good_site(), PLUGINS, {"disclosure_dates": {"report_deadline": "13-40"}})


def test_interpretation_linking_back_to_the_policy(tmp_path):
    pages = _policy(good_site(), ago(12), ago(3), link=False)
    # a title that does not name the policy, but a link back to it
    pages["/zcjd/"] = column_list(
        "政策解读", [("/zcjd/1.html", "一图读懂不动产登记新规解读", ago(3))]
    )
    pages["/zcjd/1.html"] = article(
        "一图读懂不动产登记新规解读",
        ago(3),
        "<p>解读内容</p><p>原文：<a href='/zcwj/1.html'>临沂市不动产登记办法</a></p>",
        "政策解读",
    )
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.interpretation_late")
    assert f["evidence"]["interpretation"] == "一图读懂不动产登记新规解读"
    assert not by_rule(result, "disclosure.interpretation_missing")


def test_guide_found_by_its_link_whatever_its_title(tmp_path):
    pages = good_site()
    pages["/zwgk/zn/"] = article("本局公开工作说明", None, f"<p>{GUIDE_TEXT}</p>")
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "guide.update_date_missing")
    assert f["url"].endswith("/zwgk/zn/")
    assert not by_rule(result, "guide.missing")


def test_consultation_period_in_working_days(tmp_path):
    """平潭's 2026-09-01 notice (tests/real): "公示期为7个工作日，自本通告发布之日起计算" —
    a draft policy open for 7 working days is short; 30 working days is not."""
    text = "现向社会公开征求意见。公示期为7个工作日，自本通告发布之日起计算。"
    pages = _consultation(good_site(), text, pub="2026-09-30", feedback=True)
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.consultation_short")
    # 30 September is day 1; the National Day holidays do not count: day 7 is 14 October.
    assert f["evidence"]["start"] == "2026-09-30" and f["evidence"]["end"] == "2026-10-14"
    assert f["evidence"]["days"] == 15
    pages = _consultation(
        good_site(), text.replace("7个工作日", "30个工作日"), pub="2026-09-30", feedback=True
    )
    assert not by_rule(audit(tmp_path / "b", pages, PLUGINS), "disclosure.consultation_short")


def test_feedback_is_not_due_the_day_after_a_consultation_closes(tmp_path):
    """平潭's consultation (tests/real) closed on 2026-09-09; on 2026-09-10 its 反馈 is not
    yet late. It is after feedback_grace_days working days (default 15)."""
    text = "征求意见时间：2026年10月1日至2026年11月10日。"
    pages = _consultation(good_site(), text, pub="2026-10-01")
    result = audit(tmp_path, pages, PLUGINS)  # as of 2026-11-26: 12 working days after
    assert not by_rule(result, "disclosure.consultation_no_feedback")
    options = {"disclosure_dates": {"feedback_grace_days": 5}}
    (f,) = by_rule(
        audit(tmp_path / "b", pages, PLUGINS, options), "disclosure.consultation_no_feedback"
    )
    assert f["evidence"]["end"] == "2026-11-10"


def test_a_notice_asking_for_opinions_as_zhengxun_is_a_consultation(tmp_path):
    """平潭 words some notices "…方案征询意见公示" (tests/real, 规划信息): still a consultation."""
    pages = _consultation(good_site(), "征求意见时间：2026年10月1日至10月15日。")
    for path in ("/zwgk/yjzj/1.html", "/zwgk/yjzj/"):
        pages[path] = (
            pages[path].replace("关于公开征求", "关于").replace("（征求意见稿）", "（草案）")
        ).replace("》意见的公告", "》征询意见的公告")
    assert "征求" not in pages["/zwgk/yjzj/1.html"].split("<title>")[1].split("</title>")[0]
    result = audit(tmp_path, pages, PLUGINS)
    (f,) = by_rule(result, "disclosure.consultation_short")
    assert "征询意见" in f["evidence"]["title"]
