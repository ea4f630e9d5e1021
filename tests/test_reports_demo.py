"""End to end on the demo site: revision 1, then revision 2 a week later → new / open / fixed.

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

ANCHOR1 = date(2026, 11, 26)
ANCHOR2 = ANCHOR1 + timedelta(days=7)
PLUGINS = "links,columns"  # the plugins whose planted defects change between revisions


def _switch_revision(demo, revision: int, anchor: date) -> None:
    """Serve revision ``revision`` (dated ``anchor``) on the same hosts and ports."""
    if hasattr(demo, "set_revision"):
        demo.set_revision(revision, anchor=anchor)
        return
    from govaudit.demo.site import DemoContent

    demo.anchor, demo.revision = anchor, revision
    demo.content = DemoContent(anchor, revision, demo.ports)


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
    from govaudit.demo.server import DemoSite, to_toml

    tmp = tmp_path_factory.mktemp("demo-report")
    with DemoSite(anchor=ANCHOR1, revision=1) as demo:
        data = demo.config_dict(tmp / "data")
        data["crawl"].update(autothrottle=False, concurrency_per_host=16)
        config = tmp / "demo.toml"
        config.write_text(to_toml(data), encoding="utf-8")
        first = _audit(config, ANCHOR1, tmp / "out1")
        assert first.returncode in (0, 1), first.stderr[-2000:]
        _switch_revision(demo, 2, ANCHOR2)
        second = _audit(config, ANCHOR2, tmp / "out2")
        assert second.returncode in (0, 1), second.stderr[-2000:]
    load = lambda d: json.loads((d / "findings.json").read_text(encoding="utf-8"))  # noqa: E731
    return {"first": load(tmp / "out1"), "second": load(tmp / "out2"), "out": tmp / "out2"}


def _tail(url: str) -> str:
    return url.split("/", 3)[-1]


def test_new_open_fixed_follow_the_documented_changes(demo_runs):
    first, second = demo_runs["first"], demo_runs["second"]
    before = {f["fingerprint"]: f for f in first["findings"]}
    after = {f["fingerprint"]: f for f in second["findings"]}
    fixed = {(f["rule"], _tail(f["url"])) for f in second["fixed"]}
    new = {(f["rule"], _tail(f["url"])) for f in second["findings"] if f["state"] == "new"}
    # Revision 2 repairs the deleted topic page linked from the homepage ...
    assert ("links.broken", "ztzl/sdgtdc/") in fixed
    # ... and publishes an article whose attachment is missing.
    assert ("links.broken", "uploads/jcdt/anquan-jiancha.docx") in new
    assert {f["fingerprint"] for f in second["fixed"]} == set(before) - set(after)
    for fp, f in after.items():
        if fp in before:
            assert f["state"] == "open"
            assert f["first_seen"] == ANCHOR1.isoformat()
            assert f["age_days"] == 7
        else:
            assert f["state"] == "new" and f["first_seen"] == ANCHOR2.isoformat()
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
