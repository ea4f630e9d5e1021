"""End to end on the bundled demo site: crawl it with ``govaudit audit`` (a subprocess),
run the columns, disclosure_dates and identity plugins, and compare with the planted
defects in govaudit/demo/expected.json: every defect of these rules is found, nothing
else is flagged, and the scorecard inputs are right."""

from __future__ import annotations

from pathlib import Path

import pytest

from govaudit.demo.expected import clean_pages, expected_findings, load_expected, matches
from govaudit.demo.server import DemoSite
from reports.store import Store
from tests.demo_audit import ANCHOR, audit_demo

PLUGINS = ("columns", "disclosure_dates", "identity")
PREFIXES = ("columns.", "guide.", "disclosure.", "identity.")

pytestmark = pytest.mark.slow


def audit_disclosure(demo: DemoSite, data: Path) -> dict:
    """`govaudit audit` of a running demo with the disclosure plugins; findings.json."""
    # the demo's 3 s timeout is for the links rules; a loaded CI machine must not lose a
    # page these rules read
    return audit_demo(demo, data, ",".join(PLUGINS), "--timeout", "10", "-q", codes=(0, 1))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        doc = audit_disclosure(demo, data)
        store = Store.in_dir(data)
        run = store.list_runs(limit=1)[0]
        site_data = store.run_row(run.id)["site_data"]
        crawled = {p.url for p in store.snapshot(run.id).pages(with_html=False)}
        yield {
            "crawled": crawled,
            "errors": run.errors,
            "findings": doc["findings"],
            "expected": [e for e in expected_findings(demo) if e["rule"].startswith(PREFIXES)],
            "clean": clean_pages(demo),
            "site_data": site_data,
        }


def test_every_planted_defect_is_found(demo_run):
    missing = [
        (e["id"], e["rule"], e.get("url"))
        for e in demo_run["expected"]
        if not any(matches(f, e) for f in demo_run["findings"])
    ]
    assert not missing, (
        missing,
        [m[2] in demo_run["crawled"] for m in missing],
        demo_run["errors"],
    )
    assert len(demo_run["expected"]) >= 14


def test_nothing_else_is_flagged(demo_run):
    extra = [
        (f["rule"], f["url"], f["message"])
        for f in demo_run["findings"]
        if f["rule"].startswith(PREFIXES) and not any(matches(f, e) for e in demo_run["expected"])
    ]
    assert not extra, extra
    on_clean = [
        (f["rule"], f["url"])
        for f in demo_run["findings"]
        if f["url"] in demo_run["clean"] or f["page"] in demo_run["clean"]
    ]
    assert not on_clean, on_clean
    never = {n["rule"] for n in load_expected()["not_flagged"]}
    assert not [f for f in demo_run["findings"] if f["rule"] in never]


def test_scorecard_inputs(demo_run):
    want = load_expected()["site_data"]
    got = demo_run["site_data"]
    for key, value in want.items():
        if key.startswith("columns."):
            assert got[key] == value, key
    table = got["columns.table"]
    assert table["columns"] == ["栏目", "类别", "信息条数", "最近更新", "距今天数", "状态"]
    rows = {r[0]: r for r in table["rows"]}
    assert rows["工作动态"][5] == "超期未更新" and rows["工作动态"][4] == 20
    assert rows["重大建设项目"][5] == "空白栏目"
    assert got["disclosure_dates.guide_date"]  # the guide's date, written in Chinese numerals
