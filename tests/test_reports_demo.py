"""End to end on the demo site: revision 1, then revision 2 a week later → new / open / fixed.

Both revisions use the same anchor date (article URLs on the demo are derived from it, so
the same pages keep their URLs); the second audit is dated a week later.

Two real ``govaudit audit`` subprocesses against the demo bureau site on loopback (its own
DNS server), then the XLSX read back and the HTML report opened in Chromium.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest

from tests.test_reports_support import chromium_args

pytestmark = pytest.mark.slow

ANCHOR = date(2026, 11, 26)
DAY1, DAY2 = ANCHOR, ANCHOR + timedelta(days=7)
PLUGINS = "links,columns"  # the plugins whose planted defects change between revisions


def _audit(config: Path, today: date, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "govaudit.cli",
            "audit",
            "--config",
            str(config),
            "--today",
            today.isoformat(),
            "--plugins",
            PLUGINS,
            "--out",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=400,
    )


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    from govaudit.demo.expected import expected_findings, fixed_and_new
    from govaudit.demo.server import DemoSite, to_toml

    tmp = tmp_path_factory.mktemp("demo-report")
    config = tmp / "demo.toml"
    expected = {}
    port = 0
    for revision, today in ((1, DAY1), (2, DAY2)):
        # DemoSite(port=P) reuses the ports, so URLs and fingerprints match across runs.
        with DemoSite(anchor=ANCHOR, revision=revision, port=port) as demo:
            port = demo.port
            data = demo.config_dict(tmp / "data")
            # A loaded CI machine must not turn slow answers into timeouts: the planted slow
            # page (L03) answers after 6 s, so a 5 s limit still catches it.
            data["crawl"].update(autothrottle=False, concurrency_per_host=4, timeout=5)
            config.write_text(to_toml(data), encoding="utf-8")
            expected[revision] = {e["id"]: e for e in expected_findings(demo)}
            run = _audit(config, today, tmp / f"out{revision}")
            assert run.returncode in (0, 1), run.stderr[-2000:]
            fixed_ids, new_ids = fixed_and_new(demo)
    load = lambda d: json.loads((d / "findings.json").read_text(encoding="utf-8"))  # noqa: E731
    ours = lambda e: e["rule"].split(".")[0] in PLUGINS.split(",")  # noqa: E731
    return {
        "first": load(tmp / "out1"),
        "second": load(tmp / "out2"),
        "out": tmp / "out2",
        "fixed": [expected[1][i] for i in fixed_ids if ours(expected[1][i])],
        "new": [expected[2][i] for i in new_ids if ours(expected[2][i])],
    }


def test_new_open_fixed_follow_the_documented_changes(demo_runs):
    from govaudit.demo.expected import matches

    first, second = demo_runs["first"], demo_runs["second"]
    before = {f["fingerprint"]: f for f in first["findings"]}
    after = {f["fingerprint"]: f for f in second["findings"]}
    assert demo_runs["fixed"] and demo_runs["new"]  # the demo documents both kinds of change
    for exp in demo_runs["fixed"]:  # e.g. L01: the homepage banner's deleted topic page
        assert any(matches(f, exp) for f in second["fixed"]), exp["id"]
        assert not any(matches(f, exp) for f in second["findings"]), exp["id"]
    for exp in demo_runs["new"]:  # e.g. L14: a new article's missing attachment
        assert [f["state"] for f in second["findings"] if matches(f, exp)] == ["new"], exp["id"]
    assert {f["fingerprint"] for f in second["fixed"]} == set(before) - set(after)
    # Nothing else changed on the site: exactly the documented fixes and additions.
    assert len(second["fixed"]) == len(demo_runs["fixed"])
    assert sum(f["state"] == "new" for f in second["findings"]) == len(demo_runs["new"])
    for fp, f in after.items():
        if fp in before:
            assert f["state"] == "open"
            assert f["first_seen"] == DAY1.isoformat()
            assert f["age_days"] == 7
        else:
            assert f["state"] == "new" and f["first_seen"] == DAY2.isoformat()
    assert all(f["state"] == "new" for f in first["findings"])


def test_xlsx_has_a_sheet_per_unit_with_every_finding_once(demo_runs):
    second = demo_runs["second"]
    wb = openpyxl.load_workbook(demo_runs["out"] / "整改清单.xlsx")
    units = {f["unit"] for f in second["findings"] + second["fixed"] if not f.get("ignored")}
    assert set(wb.sheetnames) == {"汇总", *units}
    counts: dict[str, int] = {}
    for name in units:
        ws = wb[name]
        header = [c.value for c in ws[1]]
        fp_col = header.index("问题编号")
        for row in ws.iter_rows(min_row=2, values_only=True):
            counts[row[fp_col]] = counts.get(row[fp_col], 0) + 1
    expected = {f["fingerprint"] for f in second["findings"] + second["fixed"]}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    for unit in units:
        assert (demo_runs["out"] / "units" / f"{unit}.xlsx").is_file()
        assert (demo_runs["out"] / "units" / f"{unit}.json").is_file()


@pytest.mark.browser
def test_report_renders_in_chromium_without_errors(demo_runs):
    from playwright.sync_api import sync_playwright

    report = demo_runs["out"] / "report.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=chromium_args())
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        text = page.inner_text("body")
        shown = page.locator("tr.finding").count()
        browser.close()
    assert errors == []
    second = demo_runs["second"]
    assert shown == len(second["findings"]) + len(second["fixed"])
    assert "已整改" in text and "仍未整改" in text and "自查评分预测" in text
