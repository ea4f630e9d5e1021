"""End to end on the demo's "neglected site" revisions 3 and 4: the disclosure rules that
revisions 1/2 must pass (expected.json's not_flagged) are planted there, and an audit with
the columns, disclosure_dates and identity plugins finds each of them. That revision 1 does
not report them is checked by test_disclosure_demo_e2e.py (nothing else is flagged)."""

from __future__ import annotations

import pytest

from govaudit.demo.expected import expected_findings, load_expected, matches
from govaudit.demo.server import DemoSite
from tests.test_disclosure_demo_e2e import ANCHOR, PREFIXES, audit_disclosure

pytestmark = pytest.mark.slow

PLANTED = {
    3: {
        "columns.disclosure_misnamed",
        "guide.update_date_missing",
        "columns.homepage_stale",
        "identity.error_report_entry_missing",
    },
    4: {"columns.disclosure_missing", "guide.update_date_stale"},
}


def _audit(revision: int, data) -> tuple[list[dict], list[dict]]:
    with DemoSite(anchor=ANCHOR, revision=revision) as demo:
        doc = audit_disclosure(demo, data)
        expected = [e for e in expected_findings(demo) if e["rule"].startswith(PREFIXES)]
    return doc["findings"], expected


@pytest.mark.parametrize("revision", [3, 4])
def test_neglected_revision_plants_its_rules(revision, tmp_path):
    findings, expected = _audit(revision, tmp_path)
    # expected.json lists exactly this revision's neglect defects
    assert {e["rule"] for e in expected} == PLANTED[revision]
    missing = [e["id"] for e in expected if not any(matches(f, e) for f in findings)]
    assert not missing, (missing, sorted({f["rule"] for f in findings}))
    # the other revision's neglect rules stay quiet (each revision plants its own)
    other = PLANTED[7 - revision]
    assert not [f["rule"] for f in findings if f["rule"] in other]


def test_planted_rules_are_not_flagged_on_revisions_1_and_2():
    never = {n["rule"] for n in load_expected()["not_flagged"]}
    assert PLANTED[3] | PLANTED[4] <= never
    for e in load_expected()["findings"]:
        if e["rule"] in PLANTED[3] | PLANTED[4]:
            assert set(e["revision"]) <= {3, 4}, e["id"]
