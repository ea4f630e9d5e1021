"""The wording and privacy audits on the bundled demo site: W01, P01 and P02 are found where
expected.json says, the masked list stays silent, and nothing else is reported."""

from __future__ import annotations

import pytest

from govaudit.demo.expected import expected_findings, matches, quiet_pages
from govaudit.demo.server import DemoSite
from tests.demo_audit import ANCHOR, audit_demo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_text(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo_text")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        doc = audit_demo(demo, data, "wording,privacy")
        expected = [
            e for e in expected_findings(demo) if e["rule"].startswith(("wording.", "privacy."))
        ]
        yield {"findings": doc["findings"], "expected": expected, "quiet": quiet_pages(demo)}


def test_planted_text_defects_found(demo_text):
    assert {e["id"] for e in demo_text["expected"]} == {"W01", "P01", "P02"}
    for e in demo_text["expected"]:
        assert any(matches(f, e) for f in demo_text["findings"]), e["id"]


def test_nothing_else_reported(demo_text):
    # The roster's other rows are the same planted defect (same rule, attachment and page).
    planted = {(e["rule"], e["url"], e["page"]) for e in demo_text["expected"]}
    extra = [
        (f["rule"], f["url"], f["message"])
        for f in demo_text["findings"]
        if not f["rule"].endswith("not_checked") and (f["rule"], f["url"], f["page"]) not in planted
    ]
    assert not extra, extra


def test_masked_list_is_quiet(demo_text):
    for quiet in demo_text["quiet"]:
        assert not [f for f in demo_text["findings"] if quiet["page"] in (f["url"], f["page"])], (
            quiet
        )
