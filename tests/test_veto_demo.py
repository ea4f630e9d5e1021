"""The integrity, interaction and availability audits on the bundled demo site: the 暗链
(H01–H03), the 在线咨询 list (M01, M02) and the seeded probe history (D01) are found where
expected.json says, the 网站群 hover menu is not reported, nothing else of these plugins is,
and the scorecard's three rows are measured. Also the seeding itself (fast, no audit)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from core.availability import figures
from govaudit.demo.expected import expected_findings, matches
from govaudit.demo.probes import outage, seed_probes
from govaudit.demo.server import DemoSite
from reports.availability import probes_between
from reports.store import Store
from tests.demo_audit import ANCHOR, audit_demo

PLUGINS = ("availability", "integrity", "interaction")
PREFIXES = tuple(f"{p}." for p in PLUGINS)
ROWS = ("首页一周内不可访问比例", "网站被攻击篡改、挂马", "政务咨询类留言超过3个月未回应")


def _now() -> datetime:
    return datetime.combine(ANCHOR, datetime.now().time())


@pytest.fixture(scope="module")
def demo_veto(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo_veto")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        assert seed_probes(Store.in_dir(data), demo.base_url, ANCHOR, _now()) >= 1000
        doc = audit_demo(demo, data, ",".join(PLUGINS))
        yield {
            "doc": doc,
            "expected": [e for e in expected_findings(demo) if e["rule"].startswith(PREFIXES)],
            "menu": [demo.url("/", h) for h in ("www.lcs.gov.cn", "m.lcnr.gov.cn")],
        }


@pytest.mark.slow
def test_planted_veto_defects_found(demo_veto):
    expected, findings = demo_veto["expected"], demo_veto["doc"]["findings"]
    assert {e["id"] for e in expected} == {"H01", "H02", "H03", "M01", "M02", "D01"}
    missing = [e["id"] for e in expected if not any(matches(f, e) for f in findings)]
    assert not missing, (missing, [(f["rule"], f["url"], f["evidence"]) for f in findings])
    units = {f["rule"]: f["unit"] for f in findings}
    assert units["interaction.unanswered"] == units["interaction.reply_late"] == "执法监督组"


@pytest.mark.slow
def test_nothing_else_reported_and_hover_menu_is_quiet(demo_veto):
    expected, findings = demo_veto["expected"], demo_veto["doc"]["findings"]
    extra = [
        (f["rule"], f["url"], f["message"])
        for f in findings
        if f["rule"].startswith(PREFIXES) and not any(matches(f, e) for e in expected)
    ]
    assert not extra, extra
    assert not [f for f in findings if f["url"] in demo_veto["menu"]]


@pytest.mark.slow
def test_scorecard_rows_are_measured(demo_veto):
    items = demo_veto["doc"]["scorecard"]["items"]
    rows = {t: [i for i in items if i["kind"] == "veto" and t in i["title"]] for t in ROWS}
    assert all(len(r) == 1 for r in rows.values()), rows
    assert {t: r[0]["status"] for t, r in rows.items()} == dict.fromkeys(ROWS, "不通过")
    assert "失败56次" in rows[ROWS[0]][0]["value"]


def test_seeded_probes_are_a_week_with_one_long_outage(tmp_path):
    store, site = Store.in_dir(tmp_path), "http://www.lcnr.gov.cn:8080/"
    now = datetime.combine(ANCHOR, time(15, 7))
    written = seed_probes(store, site, ANCHOR, now)
    assert written == 7 * 144 + 1  # every 10 minutes, both ends of the week
    assert seed_probes(store, site, ANCHOR, now) == 0  # idempotent
    assert seed_probes(store, site, ANCHOR, now + timedelta(minutes=35)) == 4  # 15:10–15:40
    end = now + timedelta(minutes=35)
    log = probes_between(store, site, end - timedelta(days=7), end)
    fig = figures(log, end - timedelta(days=7), end, 24)
    assert fig.checked and fig.failures == 56 and 0.05 <= fig.ratio < 0.06
    start, back = outage(ANCHOR)
    assert fig.longest is not None and (fig.longest.start, fig.longest.end) == (start, back)
    assert fig.longest.probes == 54 and back - start == timedelta(hours=9)
    # the audit's window at any time of the anchor day holds the outage and both blips
    for hour in (0, 12, 23):
        t = datetime.combine(ANCHOR, time(hour, 59))
        seed_probes(store, site, ANCHOR, t)
        f = figures(probes_between(store, site, t - timedelta(days=7), t), t - timedelta(7), t, 24)
        assert f.failures == 56, hour
