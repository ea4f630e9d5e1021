"""Run-to-run tracking on a real SQLite store: new / open / fixed, first seen, deadlines, ignore."""

from __future__ import annotations

import json
from datetime import date, timedelta

import chinese_calendar
import pytest

from govaudit.cli import main
from reports.store import Store
from reports.tracking import add_working_days, track
from tests.test_reports_support import SITE, add_run, finding, make_config

A = finding("links.broken", SITE + "a.html", SITE, "信息中心")
B = finding("links.broken", SITE + "b.html", SITE + "zwgk/", "综合组")
C = finding("links.timeout", SITE + "c.html", SITE, "信息中心", severity="warning")


@pytest.fixture()
def env(tmp_path):
    config = make_config(tmp_path / "data")
    return config, Store.in_dir(config.data_dir)


def _by_fp(doc):
    return {f["fingerprint"]: f for f in doc["findings"]}


def test_new_open_fixed_and_first_seen_carry_along_a_chain(env, tmp_path):
    config, store = env
    d1, d2, d3 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)
    add_run(store, config, [A, B], d1)
    add_run(store, config, [A, C], d2)
    _run3, w3 = add_run(store, config, [A, C], d3, out_dir=tmp_path / "out")
    doc = json.loads((w3.out_dir / "findings.json").read_text(encoding="utf-8"))
    found = _by_fp(doc)
    assert doc["schema"] == 1
    assert found[A["fingerprint"]]["state"] == "open"
    assert found[A["fingerprint"]]["first_seen"] == d1.isoformat()  # across three runs
    assert found[A["fingerprint"]]["age_days"] == (d3 - d1).days
    assert found[C["fingerprint"]]["state"] == "open"
    assert found[C["fingerprint"]]["first_seen"] == d2.isoformat()
    assert doc["fixed"] == []  # B was fixed in run 2, not again in run 3

    run2 = store.list_runs()[1].id
    t2 = track(store, run2, config, d2, persist=False)
    assert {f["fingerprint"]: f["state"] for f in t2.findings} == {
        A["fingerprint"]: "open",
        C["fingerprint"]: "new",
    }
    assert [f["fingerprint"] for f in t2.fixed] == [B["fingerprint"]]
    assert t2.fixed[0]["unit"] == "综合组"


def test_failed_run_is_not_the_comparison_base(env):
    config, store = env
    add_run(store, config, [A, B], date(2026, 3, 2))
    failed = store.create_run(SITE, {}, [SITE])
    store.replace_findings(failed, [C])
    store.finish_run(failed, "failed")
    run3, _ = add_run(store, config, [A], date(2026, 3, 9))
    t = track(store, run3, config, date(2026, 3, 9), persist=False)
    assert [f["fingerprint"] for f in t.fixed] == [B["fingerprint"]]
    assert t.findings[0]["state"] == "open"


def test_deadline_counts_official_working_days_across_a_holiday(env):
    config, store = env
    first = date(2026, 9, 29)  # just before 国庆节
    deadline = add_working_days(first, 5)
    naive = first + timedelta(days=7)  # five Mon–Fri days later
    assert deadline > naive
    assert chinese_calendar.is_workday(deadline)
    between = chinese_calendar.get_workdays(first + timedelta(days=1), deadline)
    assert len(between) == 5

    run_id, written = add_run(store, config, [A, C], first)
    f = {x["fingerprint"]: x for x in written.active_findings}
    assert f[A["fingerprint"]]["deadline"] == add_working_days(first, 5).isoformat()  # error: 5
    assert f[C["fingerprint"]]["deadline"] == add_working_days(first, 15).isoformat()  # warning


def test_overdue_marked_after_the_deadline(env):
    config, store = env
    add_run(store, config, [A], date(2026, 3, 2))
    _r, w = add_run(store, config, [A, C], date(2026, 3, 20))
    by = {f["fingerprint"]: f for f in w.active_findings}
    assert by[A["fingerprint"]]["overdue"] is True  # 5 working days from 3-02 have passed
    assert by[C["fingerprint"]]["overdue"] is False  # new today


def test_ignore_round_trip_with_until(env, tmp_path, capsys):
    config, store = env
    add_run(store, config, [A, B], date(2026, 3, 2))
    data = ["--data-dir", str(config.data_dir)]
    assert main(["ignore", "deadbeefdeadbeef", "--reason", "误报", *data]) == 2
    assert "no finding" in capsys.readouterr().err
    assert main(["ignore", A["fingerprint"], "--reason", "外部网站，无法整改", *data]) == 0
    assert (
        main(["ignore", B["fingerprint"], "--reason", "待系统改版", "--until", "2026-03-31", *data])
        == 0
    )

    _r, w = add_run(store, config, [A, B], date(2026, 3, 9), out_dir=tmp_path / "o")
    assert list(w.active_findings) == []
    doc = json.loads((w.out_dir / "findings.json").read_text(encoding="utf-8"))
    assert all(f["ignored"] for f in doc["findings"])
    assert doc["fixed"] == []  # ignored is not fixed
    html = (w.out_dir / "report.html").read_text(encoding="utf-8")
    assert "外部网站，无法整改" in html and "2026-03-31" in html

    _r, w = add_run(store, config, [A, B], date(2026, 4, 1))  # B's acceptance has expired
    assert [f["fingerprint"] for f in w.active_findings] == [B["fingerprint"]]
    assert w.active_findings[0]["first_seen"] == "2026-03-02"
