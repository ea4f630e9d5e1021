"""End to end on the bundled demo site: `govaudit audit --plugins accessibility,links` as a
subprocess finds every planted accessibility defect on its page, leaves clean pages clean,
reports the hostile pages as not tested without hanging, and finds the link that only
JavaScript inserts."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import urlsplit

import pytest

from govaudit.demo import expected as exp
from govaudit.demo.server import DemoSite
from reports.store import Store
from tests.demo_audit import ANCHOR, audit_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = tmp_path_factory.mktemp("a11y-demo")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        wanted = [
            e
            for e in exp.expected_findings(demo)
            if e["rule"].startswith("a11y.") or e["id"] == "L12"
        ]
        clean = exp.clean_pages(demo)[:8]
        # Audit the pages with planted defects, the hostile pages and some clean pages
        # (the whole site is `make demo`'s job; this keeps the test short).
        audited = [e["url"] for e in wanted if e["rule"].startswith("a11y.") and e["url"]]
        include = [f"^{re.escape(u)}$" for u in [*audited, *clean]]
        start = time.monotonic()
        doc = audit_demo(
            demo,
            data,
            "accessibility,links",
            "--quiet",
            timeout=420,
            config_extra="[plugins.accessibility]\n"
            f"pages_include = {json.dumps(include)}\n"
            "navigation_timeout = 10\nconcurrency = 2\n",
        )
        elapsed = time.monotonic() - start
        store = Store.in_dir(data)
        (info,) = store.list_runs()
        yield {
            "elapsed": elapsed,
            "findings": doc["findings"],
            "run": doc["run"],
            "wanted": wanted,
            "clean": clean,
            "run_dir": store.run_dir(info.id),
            "site_data": store.run_row(info.id)["site_data"],
            "demo_url": demo.url,
        }


def test_run_finishes_with_error_findings(run):
    # exit code 1 (error findings) is checked by audit_demo
    assert run["run"]["status"] == "succeeded"
    assert run["run"]["errors"] == []


def test_every_planted_defect_found_on_its_page(run):
    missing = [
        e["id"] for e in run["wanted"] if not any(exp.matches(f, e) for f in run["findings"])
    ]
    not_tested = [
        (f["page"], f["evidence"]["reason_text"])
        for f in run["findings"]
        if f["rule"] == "a11y.not_tested"
    ]
    assert missing == [], not_tested


def test_clean_pages_are_clean(run):
    for url in run["clean"]:
        assert [f["rule"] for f in run["findings"] if url in (f["url"], f["page"])] == [], url


def test_hostile_pages_not_tested_with_their_reason(run):
    reasons = {
        urlsplit(f["page"]).path: f["evidence"]["reason"]
        for f in run["findings"]
        if f["rule"] == "a11y.not_tested"
    }
    assert reasons == {
        "/ztzl/ghxcz/": "dialog",
        "/ztzl/dzzh/": "script_loop",
        "/ztzl/sjkf/": "load_timeout",
    }
    assert run["elapsed"] < 400


def test_screenshots_and_audited_pages_table(run):
    shots = [f["evidence"]["screenshot"] for f in run["findings"] if "screenshot" in f["evidence"]]
    assert shots
    for rel in shots:
        assert (run["run_dir"] / rel).is_file()
    table = run["site_data"]["accessibility.table"]
    audited = {row[0] for row in table["rows"]}
    assert set(run["clean"]) <= audited
    assert run["site_data"]["accessibility.entry"] == {"found": False}
