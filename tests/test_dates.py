"""Date extraction from Chinese government page text, and working days."""

from datetime import date

import pytest

from core.dates import (
    cn_small_int,
    cn_year,
    find_dates,
    labelled_date,
    labelled_dates,
    parse_date,
    parse_pubdate,
    working_days_after,
)

ANCHOR = date(2026, 11, 26)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2020-09-30", date(2020, 9, 30)),
        ("2020/9/30", date(2020, 9, 30)),
        ("2020.09.30", date(2020, 9, 30)),
        ("2020-9-3", date(2020, 9, 3)),
        ("2020年9月30日", date(2020, 9, 30)),
        ("2020 年 09 月 30 日", date(2020, 9, 30)),
        ("２０２０年９月３０日", date(2020, 9, 30)),
        ("２０２０－０９－３０", date(2020, 9, 30)),
        ("二〇二〇年九月三十日", date(2020, 9, 30)),
        ("二零二零年十二月三十一日", date(2020, 12, 31)),
        ("二○二六年十一月一日", date(2026, 11, 1)),
        ("二〇二一年二月廿八日", date(2021, 2, 28)),
        ("二〇二一年一月卅一日", date(2021, 1, 31)),
        ("二〇二〇年十月十日", date(2020, 10, 10)),
        ("2020-09-30 10:21", date(2020, 9, 30)),
        ("2020-09-30T10:21:05", date(2020, 9, 30)),
        ("发布日期：2020-09-30", date(2020, 9, 30)),
        ("[09-30]", date(2026, 9, 30)),
        ("【11-25】", date(2026, 11, 25)),
        ("(12-01)", date(2025, 12, 1)),  # after the anchor this year → last year
        ("11-20", date(2026, 11, 20)),  # a bare list-date cell
        ("11月20日", date(2026, 11, 20)),
    ],
)
def test_parse_date_formats(text, expected):
    assert parse_date(text, ANCHOR) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Copyright ©2020-2026 临沂市自然资源和规划局 版权所有",
        "联系电话：0539-8012345",
        "电话：(0539)8012345 传真 0539-2020930",
        "鲁ICP备2020093001号-1",
        "鲁公网安备 37130202000123号",
        "网站标识码：3713000049",
        "http://www.example.gov.cn/art/2020/9/30/art_1234_5678.html",
        "/art/2020/9/30/art_1.html",
        "版本 2020.09.30.1",
        "今天是2026年11月26日 星期四",
        "今日：2026-11-26",
        "2020-13-01",
        "2021-02-29",
        "二〇二〇年十三月一日",
        "1850-01-01",
        "共3.5万元",
        "第3-5页",
    ],
)
def test_noise_is_not_a_date(text):
    assert find_dates(text, ANCHOR) == []


def test_finds_all_dates_in_a_list_in_order():
    text = "关于开展土地调查的通知 2020-09-30 关于规划公示的公告 2020/10/8 会议纪要 [11-20]"
    found = find_dates(text, ANCHOR)
    assert [f.value for f in found] == [
        date(2020, 9, 30),
        date(2020, 10, 8),
        date(2026, 11, 20),
    ]
    assert text[found[0].start : found[0].end] == "2020-09-30"


def test_time_is_kept_separately():
    (found,) = find_dates("发布时间：2020-09-30 10:21", ANCHOR)
    assert found.value == date(2020, 9, 30)
    assert found.time == "10:21"


def test_month_day_needs_an_anchor():
    assert find_dates("[09-30]") == []


def test_future_years_beyond_anchor_are_noise():
    assert find_dates("2030-01-01", ANCHOR) == []
    assert parse_date("2027-01-01", ANCHOR) == date(2027, 1, 1)  # next year tolerated


def test_labelled_date_prefers_update_date():
    text = (
        "成文日期：2019年1月5日 发布日期：2019-01-08 更新日期：二〇二六年十月九日 其它 2018-01-01"
    )
    assert labelled_date(text) == date(2026, 10, 9)
    labels = [label for label, _ in labelled_dates(text)]
    assert labels == ["成文日期", "发布日期", "更新日期"]


def test_labelled_date_requires_the_date_next_to_the_label():
    assert labelled_date("发布日期：见附件。2020-09-30 另行通知") is None
    assert labelled_date("更新时间 ： 2020/9/30") == date(2020, 9, 30)
    assert labelled_date("【发布时间】2020.09.30") == date(2020, 9, 30)
    assert labelled_date("没有日期的指南正文") is None


def test_labelled_date_with_custom_labels():
    assert labelled_date("修订：2020-01-01", labels=["修订"]) == date(2020, 1, 1)
    assert labelled_date("修订：2020-01-01", labels=["发布日期"]) is None


def test_pubdate_meta():
    assert parse_pubdate("2020-09-30 10:21") == date(2020, 9, 30)
    assert parse_pubdate("2020-09-30 10:21:33") == date(2020, 9, 30)
    assert parse_pubdate("2020-09-30") == date(2020, 9, 30)
    assert parse_pubdate("2020年9月30日") == date(2020, 9, 30)
    assert parse_pubdate("") is None
    assert parse_pubdate(None) is None
    assert parse_pubdate("unknown") is None


@pytest.mark.parametrize(
    "s, n",
    [("一", 1), ("十", 10), ("十二", 12), ("二十", 20), ("二十一", 21), ("廿", 20), ("廿九", 29)]
    + [("卅", 30), ("卅一", 31), ("三十一", 31), ("十十", None), ("", None), ("二二", None)],
)
def test_cn_small_int(s, n):
    assert cn_small_int(s) == n


def test_cn_year():
    assert cn_year("二〇二〇") == 2020
    assert cn_year("二零一九") == 2019
    assert cn_year("二〇二") is None


def test_working_days_honour_holidays_and_adjusted_weekends():
    # 2020-09-30 (Wed) → National Day/Mid-Autumn holiday 10-01..10-08; 09-27 (Sun) and
    # 10-10 (Sat) were working days.
    assert working_days_after(date(2020, 9, 30), date(2020, 10, 9)).days == 1
    assert working_days_after(date(2020, 9, 30), date(2020, 10, 10)).days == 2
    assert working_days_after(date(2020, 9, 25), date(2020, 9, 27)).days == 1  # Sunday worked
    assert working_days_after(date(2020, 9, 30), date(2020, 9, 30)).days == 0
    plain = working_days_after(date(2020, 11, 6), date(2020, 11, 11))  # Fri → Wed
    assert plain.days == 3 and plain.exact


def test_working_days_outside_the_calendar_fall_back_with_a_note():
    result = working_days_after(date(2099, 1, 2), date(2099, 1, 9))  # Fri → Fri
    assert result.days == 5
    assert not result.exact
    assert "周一至周五" in result.note


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2020年09月30日 10:21", date(2020, 9, 30)),
        ("发布时间：2020-09-30 10:21:33 来源：综合组", date(2020, 9, 30)),
        ("日期：2020-9-30", date(2020, 9, 30)),
        ("[2020-09-30]", date(2020, 9, 30)),
        ("(2020.9.30)", date(2020, 9, 30)),
        ("2020／9／30", date(2020, 9, 30)),
        ("二〇二〇年 九月 三十日", date(2020, 9, 30)),
        ("二〇二〇年十一月二十日", date(2020, 11, 20)),
        ("二零二零年一月一日", date(2020, 1, 1)),
        ("2020年9月30日至10月20日", date(2020, 9, 30)),
        ("·关于土地征收的公告2020-09-30", date(2020, 9, 30)),
    ],
)
def test_more_real_world_formats(text, expected):
    assert parse_date(text, ANCHOR) == expected


@pytest.mark.parametrize(
    "text",
    [
        "临自然资规〔2020〕9号",
        "身份证号 370302199009301234",
        "邮编：276000 传真：0539-2020-0930",
        "10.2020.09.30",
        "第2020-09号",
        "访问量：20200930",
        "赣ICP备05012345号-1 赣公网安备 36100202000123号",
    ],
)
def test_more_noise(text):
    assert find_dates(text, ANCHOR) == []
