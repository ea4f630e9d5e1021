"""The links audit on the bundled demo site: every planted link defect is found, with
the right rule, URL and page, and no other links.* finding appears."""

from __future__ import annotations

import pytest

from govaudit.demo.expected import clean_pages, expected_findings, matches
from govaudit.demo.server import DemoSite
from reports.store import Store
from tests.demo_audit import ANCHOR, audit_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_links(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo_links")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        doc = audit_demo(demo, data, "links")
        expected = [e for e in expected_findings(demo) if e["rule"].startswith("links.")]
        clean = clean_pages(demo)
        store = Store.in_dir(data)
        site_data = store.run_row(doc["run"]["id"])["site_data"]
        yield {"doc": doc, "expected": expected, "clean": clean, "site_data": site_data}


def test_every_planted_link_defect_found(demo_links):
    findings = demo_links["doc"]["findings"]
    missing = [e["id"] for e in demo_links["expected"] if not any(matches(f, e) for f in findings)]
    assert not missing, (missing, [(f["rule"], f["url"], f["page"]) for f in findings])


def test_no_other_links_findings(demo_links):
    extra = [
        (f["rule"], f["url"], f["page"], f["message"])
        for f in demo_links["doc"]["findings"]
        if f["rule"].startswith("links.") and not any(matches(f, e) for e in demo_links["expected"])
    ]
    assert not extra


def test_clean_pages_have_no_links_findings(demo_links):
    for url in demo_links["clean"]:
        assert not [f for f in demo_links["doc"]["findings"] if url in (f["url"], f["page"])], url


def test_homepage_broken_count(demo_links):
    assert demo_links["site_data"]["links.broken_homepage"] == 1
    assert demo_links["doc"]["run"]["errors"] == []
