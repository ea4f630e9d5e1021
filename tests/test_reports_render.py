"""Report files of a run built from a real SQLite store: XLSX, per-unit files, HTML in Chromium."""

from __future__ import annotations

import json
from datetime import date

import openpyxl
import pytest

from reports.store import Store
from reports.xlsx import COLUMNS, sheet_title
from tests.test_reports_support import HOSTILE, SITE, add_run, finding, make_config

ODD_UNIT = "规划/测绘[科]:*?一个名字特别长的责任单位用于检查工作表名称"
SHOT = "artifacts/a11y/shot-1.png"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    config = make_config(tmp / "data")
    store = Store.in_dir(config.data_dir)
    fixed_one = finding("links.broken", SITE + "old.html", SITE, "信息中心")
    still = finding("links.broken", SITE + "gone.pdf", SITE + "zwgk/", "综合组")
    add_run(store, config, [fixed_one, still], date(2026, 3, 2))
    hostile = finding(
        "links.soft_404",
        SITE + "x.html",
        SITE + "news/",
        "信息中心",
        severity="warning",
        message=f"页面标题为 {HOSTILE} 的链接疑似失效",
        evidence={"title": HOSTILE, "text": "<img src=x onerror=alert(2)>", "screenshot": SHOT},
    )
    odd = finding(
        "columns.stale",
        SITE + "zcwj/",
        None,
        ODD_UNIT,
        message="=1+1 政策文件栏目超过180天未更新",
        evidence={"category": "政策文件", "newest": "2025-06-01", "formula": "=1+1"},
    )
    site_data = {
        "links.broken_homepage": 1,
        "links.broken_other": 3,
        "columns.table": {
            "title": "栏目更新情况",
            "columns": ["栏目", "最近更新"],
            "rows": [[f"栏目{HOSTILE}", "2026-01-05"], ["通知公告", None]],
        },
    }
    errors = [{"plugin": "ipv6", "stage": "check_site", "error": "RuntimeError: 测试用错误"}]
    run_id, written = add_run(
        store,
        config,
        [still, hostile, odd],
        date(2026, 3, 16),
        site_data=site_data,
        out_dir=tmp / "out",
        screenshot=SHOT,
        errors=errors,
    )
    return {
        "dir": written.out_dir,
        "run_dir": store.run_dir(run_id),
        "active": written.active_findings,
        "fixed": fixed_one,
        "still": still,
        "hostile": hostile,
        "odd": odd,
    }


def test_xlsx_has_a_sheet_per_unit_and_every_finding_once(report):
    wb = openpyxl.load_workbook(report["dir"] / "整改清单.xlsx")
    assert wb.sheetnames[0] == "汇总"
    unit_sheets = [n for n in wb.sheetnames if n != "汇总"]
    assert "综合组" in unit_sheets and "信息中心" in unit_sheets
    for name in wb.sheetnames:
        assert len(name) <= 31 and not set(name) & set("[]:*?/\\")
    seen: dict[str, int] = {}
    states: dict[str, str] = {}
    for name in unit_sheets:
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header == COLUMNS
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws.column_dimensions["C"].width >= 20  # 问题描述 fits Chinese text
        for row in ws.iter_rows(min_row=2, values_only=True):
            fp = row[COLUMNS.index("问题编号")]
            seen[fp] = seen.get(fp, 0) + 1
            states[fp] = row[COLUMNS.index("状态")]
            assert row[COLUMNS.index("依据")] is not None or row[1] == "columns.stale"
    for f in (report["still"], report["hostile"], report["odd"], report["fixed"]):
        assert seen.get(f["fingerprint"]) == 1, f["rule"]
    assert states[report["fixed"]["fingerprint"]] == "已整改"
    assert states[report["hostile"]["fingerprint"]] == "新发现"
    assert states[report["still"]["fingerprint"]].startswith("仍未整改")
    odd_sheet = [n for n in unit_sheets if n.startswith("规划_测绘")]
    assert len(odd_sheet) == 1
    message = wb[odd_sheet[0]].cell(row=2, column=3)
    assert message.value.startswith("=1+1") and message.data_type == "s"  # text, not a formula


def test_sheet_titles_are_valid_and_unique():
    taken: set[str] = set()
    a = sheet_title("a" * 40, taken)
    b = sheet_title("a" * 40, taken)
    assert len(a) == len(b) == 31 and a != b
    assert sheet_title("x/y:z", taken) == "x_y_z"


def test_findings_json_and_per_unit_files(report):
    doc = json.loads((report["dir"] / "findings.json").read_text(encoding="utf-8"))
    assert doc["schema"] == 1
    assert {"id", "site", "status", "plugins", "errors"} <= set(doc["run"])
    assert doc["run"]["errors"][0]["plugin"] == "ipv6"
    for f in doc["findings"]:
        assert {"plugin", "rule", "severity", "url", "page", "message", "evidence", "unit"} <= set(
            f
        )
        assert {"state", "first_seen", "deadline", "ignored"} <= set(f)
    units = report["dir"] / "units"
    per_unit = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in units.glob("*.json")}
    assert "综合组" in per_unit and "信息中心" in per_unit
    total = sum(len(d["findings"]) for d in per_unit.values())
    assert total == len(doc["findings"])
    assert [f["fingerprint"] for f in per_unit["信息中心"]["fixed"]] == [
        report["fixed"]["fingerprint"]
    ]
    for stem in per_unit:
        assert (units / f"{stem}.xlsx").is_file()
        wb = openpyxl.load_workbook(units / f"{stem}.xlsx")
        assert len(wb.sheetnames) == 2  # 汇总 + the unit
    assert not any("/" in p.name for p in units.iterdir())


def test_html_is_self_contained_and_escapes_page_text(report):
    html = (report["dir"] / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "data:image/png;base64," in html  # screenshot embedded
    for needle in ('src="http', "src='http", 'href="//', "<link ", "@import", "url(http"):
        assert needle not in html
    assert "测试用错误" in html  # plugin errors of the run are shown
    assert "国办秘函〔2019〕19号" in html and "需人工核查" in html


@pytest.mark.browser
def test_html_in_chromium_renders_safely_sorts_and_filters(report):
    from playwright.sync_api import sync_playwright

    from tests.test_reports_support import chromium_args

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=chromium_args())
        page = browser.new_page()
        problems: list[str] = []
        dialogs: list[str] = []
        requests: list[str] = []
        page.on("console", lambda m: m.type in ("error", "warning") and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.goto((report["dir"] / "report.html").as_uri())
        page.wait_for_load_state("load")
        assert problems == []
        assert dialogs == []
        assert all(u.startswith(("file:", "data:")) for u in requests), requests
        assert HOSTILE in page.inner_text("body")  # shown as text
        assert page.locator("script").count() == 1  # only our own script
        img = page.locator(".shot img").first
        assert img.evaluate("i => i.complete && i.naturalWidth") == 40
        rows = page.locator("tr.finding")
        total = rows.count()
        assert total == 4  # 3 open + 1 fixed
        page.select_option("#f-unit", "综合组")
        assert page.locator("tr.finding:visible").count() == 1
        page.select_option("#f-unit", "")
        page.fill("#f-text", "gone.pdf")
        assert page.locator("tr.finding:visible").count() == 1
        page.fill("#f-text", "")
        page.select_option("#f-state", "fixed")
        assert page.locator("tr.finding:visible").count() == 1
        page.select_option("#f-state", "")
        first = page.locator("#unit-table tbody tr td:first-child")
        names = first.all_inner_texts()
        page.click("#unit-table th:first-child")
        asc = first.all_inner_texts()
        page.click("#unit-table th:first-child")
        desc = first.all_inner_texts()
        assert sorted(names) == sorted(asc) and asc == list(reversed(desc)) and asc != desc
        browser.close()
