"""The disclosure, column, identity and link audits on saved pages of real government sites.

Ground truth (tests/real/expected.json) was written by reading the pages as an inspector
would, before the tool ran: each ``expect`` entry must be found, each ``forbid`` entry must
not be, and no other finding of a judged rule may appear. Links to images, scripts and
pages that were not saved answer 404 on loopback and say nothing about the real site, so
``links.broken`` is judged only where expect lists it.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.realsites import RealSites, env_ok, expected, hosts, same_page

PLUGINS = "columns,disclosure_dates,identity,links"
NOT_JUDGED = {"links.broken", "links.redirect", "links.external_broken", "links.not_checked"}

pytestmark = pytest.mark.skipif(not env_ok(), reason="ports 80/443 on loopback need root")


class _Audits(dict):
    """Each host audited once, when a test first asks for it (``-k host`` audits one)."""

    def __init__(self, sites: RealSites) -> None:
        super().__init__()
        self.sites = sites

    def __missing__(self, host: str) -> dict:
        self[host] = self.sites.audit(host, plugins=PLUGINS)
        return self[host]


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory):
    sites = RealSites(tmp_path_factory.mktemp("real")).start()
    try:
        yield _Audits(sites)
    finally:
        sites.stop()


# Evidence keys that identify which finding an entry means (others describe it for people).
MATCH_KEYS = ("target", "text", "column", "date", "year", "document_date", "published")


def _evidence_ok(finding: dict, evidence: dict) -> bool:
    """Each identifying value the entry names appears in the finding (its url or evidence)."""
    seen = unquote(
        json.dumps([finding.get("url"), finding.get("evidence")], ensure_ascii=False, default=str)
    )
    return all(
        unquote(str(v)) in seen
        for k, v in (evidence or {}).items()
        if k in MATCH_KEYS and v not in (None, "", [], {})
    )


def _matches(finding: dict, entry: dict) -> bool:
    if finding["rule"] != entry["rule"]:
        return False
    if entry.get("url") is not None and not (
        same_page(finding.get("page"), entry["url"]) or same_page(finding.get("url"), entry["url"])
    ):
        return False
    return _evidence_ok(finding, entry.get("evidence") or {})


def _show(f: dict) -> str:
    return f"{f['rule']} @ {f.get('page') or f.get('url')}: {f['message']}"


def test_the_corpus_is_served_under_real_hostnames() -> None:
    assert set(expected()["sites"]) <= set(hosts())


@pytest.mark.parametrize("host", sorted(expected()["sites"]))
def test_expected_findings_are_found(audits: dict[str, dict], host: str) -> None:
    found = audits[host]["findings"]
    missed = [
        f"{e['rule']} @ {e['url']} ({e['why'][:80]})"
        for e in expected()["sites"][host].get("expect", [])
        if not any(_matches(f, e) for f in found)
    ]
    assert missed == [], "missed:\n" + "\n".join(missed)


@pytest.mark.parametrize("host", sorted(expected()["sites"]))
def test_nothing_forbidden_or_unexpected_is_reported(audits: dict[str, dict], host: str) -> None:
    site = expected()["sites"][host]
    found = audits[host]["findings"]
    expected_here = site.get("expect", [])
    bad = [  # a forbid entry covers what its page shows beyond the expected findings
        f"FORBIDDEN {_show(f)} ({e['why'][:80]})"
        for e in site.get("forbid", [])
        for f in found
        if _matches(f, e) and not any(_matches(f, x) for x in expected_here)
    ]
    bad += [
        f"UNEXPECTED {_show(f)}"
        for f in found
        if f["rule"] not in NOT_JUDGED
        and not any(_matches(f, e) for e in site.get("expect", []))
        and not any(_matches(f, e) for e in site.get("forbid", []))
    ]
    assert bad == [], "false positives:\n" + "\n".join(bad)
