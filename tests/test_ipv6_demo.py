"""The ipv6 plugin on the bundled demo site, end to end (``govaudit audit`` subprocesses):
the planted IPv6 defects of govaudit/demo/expected.json are found, on the site itself and
on the auxiliary hosts audited on their own, and nothing else is flagged."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from urllib.parse import urlsplit

import pytest

from govaudit.demo.expected import expected_findings, host_checks, matches
from govaudit.demo.server import DemoSite

ANCHOR = date(2026, 11, 26)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    data = tmp_path_factory.mktemp("ipv6demo")
    with DemoSite(anchor=ANCHOR, revision=1) as demo:
        config = demo.write_config(data / "data")
        checks = host_checks(demo)

        def audit(target: tuple[str, str, int]) -> dict:
            name, url, depth = target
            out = data / name
            proc = subprocess.run(
                [sys.executable, "-m", "govaudit.cli", "audit", url, "--config", str(config),
                 "--plugins", "ipv6", "--max-depth", str(depth), "--today", ANCHOR.isoformat(),
                 "--out", str(out), "-q"],
                capture_output=True, text=True, timeout=240,
            )  # fmt: skip
            assert proc.returncode in (0, 1), proc.stderr[-2000:]
            doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
            doc["report"] = (out / "report.html").read_text(encoding="utf-8")
            return doc

        # 二级/三级 links need the homepage and the pages it links to: depth 1 is enough;
        # the other hosts are audited for their homepage only.
        targets = [("site", demo.base_url, 1)] + [(c["role"], c["start"], 0) for c in checks]
        with ThreadPoolExecutor(max_workers=2) as pool:
            docs = dict(zip([t[0] for t in targets], pool.map(audit, targets), strict=True))
        yield {
            "docs": docs,
            "checks": checks,
            "expected": [e for e in expected_findings(demo) if e["rule"].startswith("ipv6.")],
            "hosts": demo.hosts,
        }


def test_planted_site_defects_are_found_and_nothing_else(demo_runs):
    findings = demo_runs["docs"]["site"]["findings"]
    missing = [e["id"] for e in demo_runs["expected"] if not any(matches(f, e) for f in findings)]
    assert not missing
    extra = [
        (f["rule"], f["message"])
        for f in findings
        if not any(matches(f, e) for e in demo_runs["expected"])
    ]
    assert not extra
    assert {e["id"] for e in demo_runs["expected"]} >= {"V01", "V02"}


def test_level2_failures_are_the_planted_hosts(demo_runs):
    [low] = [
        f for f in demo_runs["docs"]["site"]["findings"] if f["rule"] == "ipv6.link_support_low"
    ]
    hosts = demo_runs["hosts"]
    failing = {urlsplit(x["url"]).hostname for x in low["evidence"]["failing"]}
    assert failing == {hosts["static"], hosts["ipv6_unreachable"], hosts["ipv6_mismatch"]}
    assert low["evidence"]["rate"] < 0.9


def test_each_auxiliary_host_gets_its_rule(demo_runs):
    for check in demo_runs["checks"]:
        rules = {f["rule"] for f in demo_runs["docs"][check["role"]]["findings"]}
        if check["rule"] is None:  # www: dual stack, same content
            assert not rules & {"ipv6.no_aaaa", "ipv6.unreachable", "ipv6.content_mismatch"}
        else:
            assert check["rule"] in rules, (check["role"], rules)


def test_report_has_the_ipv6_section(demo_runs):
    report = demo_runs["docs"]["site"]["report"]
    assert "IPv6 支持情况（首页、域名服务器、二级/三级链接，按主机）" in report
    assert "IPv4/IPv6 访问耗时（毫秒）" in report
