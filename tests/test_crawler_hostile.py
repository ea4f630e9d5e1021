"""Hostile sites and faults (issue 17), each against a real server on loopback.

A gzip bomb, links and redirects into internal networks, pages with too many links, a
slow site full of broken internal links, and a page nested 100,000 levels deep. Each
test runs ``govaudit audit --plugins links`` in a subprocess and reads findings.json,
the store and what the server saw.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.progress import CrawlCounters, ProgressReporter
from reports.store import Store
from tests.ipv6_servers import DualDNS
from tests.loopback import LoopbackServer, Reply, run_govaudit
from tests.netguard import MARK

ROOT = Path(__file__).resolve().parent.parent
BOMB_INFLATED = 1 << 30  # 1 GiB of HTML (spaces) in about 1 MB of gzip


@functools.cache
def gzip_bomb() -> bytes:
    """A gzip body inflating to BOMB_INFLATED bytes, compressed in 1 MiB steps (once)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = (
        '<html><head><title>压缩炸弹</title></head><body><a href="/next.html">下一页</a><p>'
    ).encode()
    parts = [c.compress(head)]
    block = b" " * (1 << 20)
    for _ in range((BOMB_INFLATED - len(head)) >> 20):
        parts.append(c.compress(block))
    parts.append(c.compress(b"</p></body></html>"))
    parts.append(c.flush())
    return b"".join(parts)


def _config(work: Path, start: str, crawl: str = "") -> Path:
    path = work / "govaudit.toml"
    path.write_text(
        f"""
[site]
urls = ["{start}"]
[crawl]
timeout = 10.0
retries = 0
autothrottle = false
{crawl}
""",
        encoding="utf-8",
    )
    return path


def _audit_args(work: Path, config: Path, *extra: str) -> list[str]:
    return [
        "audit",
        "--config",
        str(config),
        "--data-dir",
        str(work / "data"),
        "--out",
        str(work / "out"),
        "--plugins",
        "links",
        *extra,
    ]


def _results(work: Path) -> tuple[dict[str, Any], Any]:
    findings = json.loads((work / "out" / "findings.json").read_text(encoding="utf-8"))
    snap = Store.in_dir(work / "data").snapshot(findings["run"]["id"])
    return findings, snap


def _rules(findings: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in findings["findings"] if f["rule"] == rule]


# ---- 1. gzip bomb ----------------------------------------------------------------------
def test_gzip_bomb_is_inflated_only_up_to_the_page_limit(tmp_path: Path) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2_000_000
    with LoopbackServer() as srv:
        srv.route("/", body=bomb, headers={"Content-Encoding": "gzip"}, content_type="text/html")
        srv.route("/next.html", html="<html><title>下一页</title></html>")
        config = _config(tmp_path, srv.url("/"))
        # A child of a child: RUSAGE_CHILDREN then holds this crawl's peak and nothing else.
        measure = (
            "import resource, subprocess, sys, time\n"
            "t = time.monotonic()\n"
            "rc = subprocess.run(sys.argv[1:], timeout=170).returncode\n"
            "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
            "print(f'peak_kb={peak} seconds={time.monotonic() - t:.1f} rc={rc}')\n"
        )
        args = _audit_args(tmp_path, config, "--max-pages", "1")
        proc = subprocess.run(
            [sys.executable, "-c", measure, sys.executable, "-m", "govaudit.cli", *args],
            cwd=str(tmp_path),
            capture_output=True,
            text=True,
            timeout=200,
        )
    m = re.search(r"peak_kb=(\d+) seconds=([\d.]+) rc=(\d+)", proc.stdout)
    assert m, proc.stdout + proc.stderr
    peak_mb, seconds, rc = int(m.group(1)) / 1024, float(m.group(2)), int(m.group(3))
    print(f"gzip bomb: peak RSS {peak_mb:.0f} MB, {seconds:.1f} s")
    assert rc in (0, 1), proc.stderr
    assert peak_mb < 300, f"peak RSS {peak_mb:.0f} MB"
    assert seconds < 60
    findings, snap = _results(tmp_path)
    page = snap.page(srv.url("/"))
    assert page is not None and page.title == "压缩炸弹"
    assert page.meta.get("_truncated") is True
    assert page.meta.get("_truncated_reason") == "decompressed"
    assert len(page.html) <= 8_000_000
    truncated = _rules(findings, "links.page_truncated")
    assert [(f["url"], f["severity"], f["evidence"]["reason"]) for f in truncated] == [
        (srv.url("/"), "info", "decompressed")
    ]
    # The link before the padding was still found and checked.
    assert snap.check(srv.url("/next.html")).status.is_ok


# ---- 2. internal addresses ---------------------------------------------------------------
PRIVATE_TARGETS = {
    "http://10.255.255.1/": "private",
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fd00::1]/": "unique-local",
    "http://intranet.hostile.test/": "private",  # a name resolving to 10.255.255.1
}


def test_links_and_redirects_to_internal_addresses_are_not_fetched(tmp_path: Path) -> None:
    records = {
        "www.hostile.test": {"A": ["127.0.0.1"]},
        "intranet.hostile.test": {"A": ["10.255.255.1"]},
    }
    with LoopbackServer() as srv, DualDNS(records) as dns:
        links = "".join(f'<a href="{u}">内网{i}</a>' for i, u in enumerate(PRIVATE_TARGETS))
        srv.route(
            "/",
            html=f"<html><title>首页</title>{links}"
            '<a href="/metadata">跳转到元数据</a><a href="/ok.html">正常</a>'
            f'<a href="http://127.0.0.1:{srv.port}/ok2.html">本站地址</a></html>',
        )
        srv.route(
            "/metadata",
            status=302,
            headers={"Location": "http://169.254.169.254/latest/meta-data/iam/"},
        )
        srv.route("/ok.html", html="<html><title>正常</title></html>")
        srv.route("/ok2.html", html="<html><title>正常2</title></html>")
        start = f"http://www.hostile.test:{srv.port}/"
        config = _config(tmp_path, start)
        args = _audit_args(tmp_path, config, "--dns-server", dns.server)
        proc = subprocess.run(
            [sys.executable, "-m", "tests.netguard", *args],
            cwd=str(tmp_path),
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    # No connection to anything but loopback was even attempted.
    assert MARK not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 1, proc.stderr[-3000:]
    findings, snap = _results(tmp_path)
    for url, category in PRIVATE_TARGETS.items():
        check = snap.check(url)
        assert check is not None, url
        assert check.status.kind == "private_address", (url, check.status)
        assert category in check.status.detail, (url, check.status.detail)
        assert check.elapsed_ms is not None and check.elapsed_ms < 2000
        found = [f for f in findings["findings"] if f["url"] == url]
        assert [(f["rule"], f["evidence"]["kind"]) for f in found] == [
            ("links.broken", "private_address")
        ], url
        assert "内网" in found[0]["message"] or "非公网" in found[0]["evidence"]["hint"]
    redirect = snap.check(f"http://www.hostile.test:{srv.port}/metadata")
    assert redirect.status.kind == "private_address"
    assert redirect.redirects == [(302, "http://169.254.169.254/latest/meta-data/iam/")]
    assert [f["rule"] for f in findings["findings"] if f["url"].endswith("/metadata")] == [
        "links.broken"
    ]
    # The site's own address and names still work.
    assert snap.check(f"http://www.hostile.test:{srv.port}/ok.html").status.is_ok
    assert snap.check(f"http://127.0.0.1:{srv.port}/ok2.html").status.is_ok
    assert srv.requests_for("/ok2.html")


# ---- 3. link caps and the ETA -----------------------------------------------------------
def test_link_targets_are_capped_per_page_and_per_run(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        srv.route(
            "/", html='<html><title>首页</title><a href="/a.html">A</a><a href="/b.html">B</a>'
        )
        for name in ("a", "b"):
            many = "".join(f'<a href="/x/{name}-{k}.pdf">附件{k}</a>' for k in range(1000))
            srv.route(f"/{name}.html", html=f"<html><title>{name}</title>{many}</html>")
        srv.route("/x/*", body=b"%PDF-1.4", content_type="application/pdf")
        config = _config(
            tmp_path,
            srv.url("/"),
            "max_links_per_page = 200\nmax_targets = 300\nconcurrency_per_host = 8",
        )
        proc = run_govaudit(*_audit_args(tmp_path, config), cwd=str(tmp_path))
        attachments = [r for r in srv.requests if r.path.startswith("/x/")]
    assert proc.returncode == 0, proc.stderr[-3000:]
    # 3 pages + 297 attachments = 300 targets; each attachment answered HEAD once.
    assert len(attachments) == 297, len(attachments)
    findings, snap = _results(tmp_path)
    capped = {
        f["page"]: f
        for f in _rules(findings, "links.not_checked")
        if f["evidence"]["limit"] == "crawl.max_links_per_page"
    }
    assert set(capped) == {srv.url("/a.html"), srv.url("/b.html")}
    for f in capped.values():
        assert f["severity"] == "info"
        assert (f["evidence"]["links_found"], f["evidence"]["links_checked"]) == (1000, 200)
    site = [
        f
        for f in _rules(findings, "links.not_checked")
        if f["evidence"]["limit"] == "crawl.max_targets"
    ]
    assert len(site) == 1 and site[0]["evidence"]["targets_not_checked"] == 103
    assert "not checked: 103 targets" in proc.stderr
    # Link rows stop at the per-page cap too.
    assert len(snap.links_from(srv.url("/a.html"))) == 200


def test_eta_comes_from_the_observed_rate_of_targets() -> None:
    now = [0.0]
    counters = CrawlCounters(started=0.0)
    reporter = ProgressReporter(counters, lambda m: None, max_pages=5000, clock=lambda: now[0])
    # 10 pages crawled, 1,000 links checked in 10 s; 2,000 targets still queued.
    now[0], counters.pages, counters.checks, counters.queued = 10.0, 10, 1000, 2000
    line = reporter.line()
    assert "100.0 targets/s" in line and "ETA ~20s" in line, line
    # The rate is measured over the last minute: the crawl slowed down to 10 targets/s.
    for t in range(11, 200):
        now[0], counters.checks = float(t), 1000 + (t - 10) * 10
        line = reporter.line()
    assert "10.0 targets/s" in line and "ETA ~3min" in line, line


# ---- 4. the page budget counts pages crawled --------------------------------------------
def _chain_site(srv: LoopbackServer) -> None:
    """/pN links /p(N+1) … /p(N+5) and 50 broken links of its own; every answer is slow."""

    def page(req: Any) -> Reply:
        m = re.fullmatch(r"/p(\d+)", urlsplit(req.path).path)
        if m is None:
            return Reply(404, b"<html><title>404</title>not found</html>")
        n = int(m.group(1))
        nxt = "".join(f'<a href="/p{n + k}">第{n + k}页</a>' for k in range(1, 6))
        bad = "".join(f'<a href="/p{n}/gone-{k}.html">失效{k}</a>' for k in range(50))
        return Reply(200, f"<html><title>第{n}页</title>{nxt}{bad}</html>".encode())

    srv.route("/p*", handler=page, delay=0.03)


def test_max_pages_means_pages_crawled(tmp_path: Path) -> None:
    with LoopbackServer() as srv:
        _chain_site(srv)
        config = _config(tmp_path, srv.url("/p0"), "concurrency_per_host = 8\nconcurrency = 16")
        started = time.monotonic()
        proc = run_govaudit(
            *_audit_args(tmp_path, config, "--max-pages", "30"), cwd=str(tmp_path), timeout=240
        )
        print(f"chain site: {time.monotonic() - started:.1f} s")
        heads = [r for r in srv.requests if r.method == "HEAD" and re.fullmatch(r"/p\d+", r.path)]
    assert proc.returncode == 1, proc.stderr[-3000:]
    findings, snap = _results(tmp_path)
    crawled = [p.url for p in snap.pages(with_html=False)]
    assert findings["run"]["pages_crawled"] == 30, crawled
    assert len(crawled) == 30 and all(re.fullmatch(r".*/p\d+", u) for u in crawled), crawled
    # Pages within the budget were crawled, not HEAD-checked: the first ones found (the
    # last few fetches may overtake each other: up to concurrency_per_host = 8).
    numbers = sorted(int(u.rsplit("p", 1)[1]) for u in crawled)
    assert numbers[:22] == list(range(22)) and numbers[-1] < 30 + 8, numbers
    assert all(int(r.path[2:]) >= 22 for r in heads), [r.path for r in heads]
    # Every broken link on every crawled page is reported.
    assert len(_rules(findings, "links.broken")) == 30 * 50


# ---- 5. deep nesting -----------------------------------------------------------------------
def test_link_below_100000_nested_divs_is_found(tmp_path: Path) -> None:
    depth = 100_000
    deep = (
        "<html><head><title>嵌套页面</title></head><body>"
        + "<div>" * depth
        + '<a href="/bottom.html">底部链接</a>'
        + "</div>" * depth
        + '<img src="/missing.png" alt="尾部图片"></body></html>'
    )
    with LoopbackServer() as srv:
        srv.route("/", html='<html><title>首页</title><a href="/deep.html">深层</a></html>')
        srv.route("/deep.html", html=deep)
        srv.route("/bottom.html", html="<html><title>底部</title></html>")
        config = _config(tmp_path, srv.url("/"))
        proc = run_govaudit(*_audit_args(tmp_path, config), cwd=str(tmp_path))
        assert srv.requests_for("/bottom.html"), "the link at the bottom was not followed"
    assert proc.returncode == 1, proc.stderr[-3000:]
    findings, snap = _results(tmp_path)
    deep_url = srv.url("/deep.html")
    targets = {link.target: link for link in snap.links_from(deep_url)}
    assert targets[srv.url("/bottom.html")].text == "底部链接"
    assert snap.page(srv.url("/bottom.html")) is not None
    missing = [f for f in _rules(findings, "links.broken") if f["url"].endswith("/missing.png")]
    assert [(f["page"], f["evidence"]["text"]) for f in missing] == [(deep_url, "尾部图片")]
    partial = [f for f in _rules(findings, "links.page_truncated") if f["page"] == deep_url]
    assert [f["evidence"]["reason"] for f in partial] == ["depth"]
    assert snap.page(deep_url).meta.get("_partial_parse") == "depth"
