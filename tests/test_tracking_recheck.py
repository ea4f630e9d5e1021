"""Real crawls of a tiny loopback site: hostile page text in the report, recheck, ignore.

Every crawl is a ``govaudit`` subprocess (Twisted's reactor cannot restart in one process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reports.store import Store
from tests.loopback import LoopbackServer
from tests.test_reports_support import HOSTILE, chromium_args

LINK_TEXT = "<img src=x onerror=alert(2)>"


def govaudit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govaudit.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recheck")
    with LoopbackServer() as srv:
        srv.route(
            "/",
            html="<html><head><title>首页</title></head><body>"
            "<a href='/news/'>新闻</a> <a href='/a.html'>坏链接A</a></body></html>",
        )
        srv.route(
            "/news/",
            html="<html><head><title>&lt;script&gt;alert(1)&lt;/script&gt;</title></head><body>"
            "<a href='/gone.html'>&lt;img src=x onerror=alert(2)&gt;</a> <a href='/'>首页</a>"
            "</body></html>",
        )
        srv.route("/a.html", status=404)
        srv.route("/gone.html", status=404)
        data = tmp / "data"
        config = tmp / "site.toml"
        config.write_text(
            f"""
data_dir = "{data}"
[site]
name = "测试局"
urls = ["{srv.url("/")}"]
[crawl]
obey_robots = false
timeout = 5
retries = 0
[plugins]
enabled = ["links"]
[units]
default = "信息中心"
[[units.map]]
prefix = "/news/"
unit = "综合组"
""",
            encoding="utf-8",
        )
        first = govaudit("audit", "--config", str(config), "--today", "2026-03-02", "-q")
        assert first.returncode == 1, first.stderr  # error-level findings
        yield {"srv": srv, "config": config, "data": data, "tmp": tmp}


def _doc(path: Path) -> dict:
    return json.loads((path / "findings.json").read_text(encoding="utf-8"))


def _by_target(findings: list[dict]) -> dict[str, dict]:
    return {f["url"].rsplit("/", 1)[-1]: f for f in findings}


def test_first_run_owns_findings_by_unit(site):
    store = Store.in_dir(site["data"])
    doc = _doc(store.run_dir(1))
    found = _by_target(doc["findings"])
    assert found["a.html"]["unit"] == "信息中心" and found["a.html"]["state"] == "new"
    assert found["gone.html"]["unit"] == "综合组"


@pytest.mark.browser
def test_hostile_page_title_and_link_text_show_as_text_and_never_run(site):
    from playwright.sync_api import sync_playwright

    report = Store.in_dir(site["data"]).run_dir(1) / "report.html"
    html = report.read_text(encoding="utf-8")
    assert HOSTILE not in html and LINK_TEXT not in html
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=chromium_args())
        page = browser.new_page()
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(report.as_uri())
        page.wait_for_timeout(200)
        text = page.inner_text("body")
        browser.close()
    assert HOSTILE in text  # the crawled title, shown as text
    assert LINK_TEXT in text  # the link text, shown as text
    assert dialogs == [] and errors == []


def test_recheck_by_unit_then_all_marks_only_rechecked_fixes(site):
    store = Store.in_dir(site["data"])
    site["srv"].route("/a.html", html="<html><title>修好了</title></html>")  # 信息中心 fixes A

    # Only 综合组's pages are rechecked: A's page (the homepage) is fetched too, but A belongs
    # to another unit and keeps its state.
    out = site["tmp"] / "recheck-unit"
    r = govaudit(
        "recheck",
        "1",
        "--config",
        str(site["config"]),
        "--unit",
        "综合组",
        "--today",
        "2026-03-04",
        "--out",
        str(out),
    )
    assert r.returncode == 1, r.stderr
    doc = _doc(out)
    run = store.run_row(doc["run"]["id"])
    assert run["kind"] == "recheck" and run["parent_run"] == 1
    found = _by_target(doc["findings"])
    assert found["gone.html"]["state"] == "open"
    assert found["a.html"]["state"] == "open"
    assert doc["fixed"] == []

    out = site["tmp"] / "recheck-all"
    r = govaudit(
        "recheck", "1", "--data-dir", str(site["data"]), "--today", "2026-03-05", "--out", str(out)
    )  # no --config: the run's own settings
    assert r.returncode == 1, r.stderr
    assert "已整改 1 项" in r.stdout
    doc = _doc(out)
    assert [f["url"].rsplit("/", 1)[-1] for f in doc["fixed"]] == ["a.html"]
    found = _by_target(doc["findings"])
    assert list(found) == ["gone.html"]
    assert found["gone.html"]["first_seen"] == "2026-03-02"
    assert "已整改" in (out / "report.html").read_text(encoding="utf-8")
    assert store.run_row(doc["run"]["id"])["pages_crawled"] <= 2  # no full crawl


def test_ignore_is_honoured_by_the_next_audit(site):
    store = Store.in_dir(site["data"])
    gone = _by_target(_doc(store.run_dir(1))["findings"])["gone.html"]
    r = govaudit(
        "ignore",
        gone["fingerprint"],
        "--reason",
        "历史页面，已申请下线",
        "--until",
        "2026-12-31",
        "--config",
        str(site["config"]),
    )
    assert r.returncode == 0, r.stderr
    site["srv"].route("/a.html", html="<html><title>修好了</title></html>")
    out = site["tmp"] / "after-ignore"
    r = govaudit(
        "audit", "--config", str(site["config"]), "--today", "2026-03-09", "-q", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr  # the only error left is ignored
    doc = _doc(out)
    assert [f["ignored"] for f in doc["findings"]] == [True]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "历史页面，已申请下线" in html
    assert not (out / "units" / "综合组.json").exists() or not _doc_unit(out, "综合组")


def _doc_unit(out: Path, unit: str) -> list[dict]:
    doc = json.loads((out / "units" / f"{unit}.json").read_text(encoding="utf-8"))
    return [f for f in doc["findings"] if not f["ignored"]]
