"""`govaudit audit` as a user runs it: exit codes, --resolve, a plugin that raises."""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap

import pytest

from tests.loopback import LoopbackServer, Reply, free_port, run_govaudit

FAKE_HOST = "www.crawler-test.gov.cn"


@pytest.fixture(scope="module")
def clean_site():
    """A healthy site that answers 200 for every missing path (no real 404 page)."""
    srv = LoopbackServer().start()
    srv.route(
        "/",
        html='<html><title>首页</title><a href="/a.html">甲</a><a href="/b.html">乙</a>'
        '<img src="/logo.png" alt="标识"></html>',
    )
    srv.route("/a.html", html='<html><title>甲</title><a href="/">首页</a></html>')
    srv.route("/b.html", html="<html><title>乙</title></html>")
    srv.route("/logo.png", body=b"\x89PNG", content_type="image/png")
    srv.default.handler = lambda req: Reply(200, b"<html><title>Welcome</title>hello</html>")
    yield srv
    srv.stop()


def _findings(out) -> dict:
    return json.loads((out / "findings.json").read_text(encoding="utf-8"))


def test_resolve_maps_fake_hostname_and_exit_0(clean_site, tmp_path):
    port = clean_site.port
    proc = run_govaudit(
        "audit",
        f"http://{FAKE_HOST}:{port}/",
        "--resolve",
        f"{FAKE_HOST}:{port}:127.0.0.1",
        "--no-robots",
        "--plugins",
        "links",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        cwd=str(tmp_path),
    )
    assert proc.returncode == 0, proc.stderr
    data = _findings(tmp_path / "out")
    assert data["run"]["pages_crawled"] == 3
    hosts = {r.headers.get("host") for r in clean_site.requests}
    assert f"{FAKE_HOST}:{port}" in hosts
    # The random-path probe answered 200: one site-level soft-404 warning, nothing else.
    rules = [(f["rule"], f["page"], f["severity"]) for f in data["findings"]]
    assert rules == [("links.soft_404", None, "warning")]
    # After exit the database file alone is complete (a backup that copies only
    # govaudit.sqlite, without its -wal file, loses nothing).
    alone = tmp_path / "backup" / "govaudit.sqlite"
    alone.parent.mkdir()
    shutil.copyfile(tmp_path / "data" / "govaudit.sqlite", alone)
    with sqlite3.connect(alone) as db:
        assert db.execute("SELECT status, pages_crawled FROM runs").fetchall() == [("succeeded", 3)]
        assert db.execute("SELECT count(*) FROM findings").fetchone() == (1,)
    ua = {r.headers.get("user-agent") for r in clean_site.requests}
    assert any(u and u.startswith("govaudit/") for u in ua)


def test_unknown_hostname_without_resolve_is_dns_failure_exit_2(tmp_path):
    proc = run_govaudit(
        "audit",
        "http://www.no-such-bureau.invalid/",
        "--data-dir",
        str(tmp_path / "data"),
        "--timeout",
        "2",
        cwd=str(tmp_path),
    )
    assert proc.returncode == 2
    assert "cannot run" in proc.stderr and "域名无法解析" in proc.stderr


def test_unreachable_start_url_exit_2(tmp_path):
    port = free_port()
    proc = run_govaudit(
        "audit",
        f"http://127.0.0.1:{port}/",
        "--data-dir",
        str(tmp_path / "data"),
        "--timeout",
        "2",
        cwd=str(tmp_path),
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("govaudit: cannot run:") and f"127.0.0.1:{port}" in last


def test_bad_config_names_the_key_exit_2(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[site]\nurls = ["http://127.0.0.1:1/"]\n[crawl]\ntimeout = -5\n')
    proc = run_govaudit("audit", "--config", str(cfg), "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 2
    assert "crawl.timeout" in proc.stderr and "-5" in proc.stderr


def test_plugin_that_raises_does_not_stop_the_run(clean_site, tmp_path):
    # A real third-party plugin package, discovered through its entry point.
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    (site_dir / "raiseplug.py").write_text(
        textwrap.dedent(
            """
            from audits.base import AuditPlugin

            class RaisingAudit(AuditPlugin):
                name = "raiser"
                title = "总是出错的插件"
                rules = []

                def check_site(self, snapshot):
                    raise RuntimeError("boom from raiser")
            """
        )
    )
    dist = site_dir / "raiseplug-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: raiseplug\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[govaudit.audits]\nraiser = raiseplug:RaisingAudit\n")
    proc = run_govaudit(
        "audit",
        clean_site.url("/"),
        "--no-robots",
        "--plugins",
        "raiser,links",
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "out"),
        cwd=str(tmp_path),
        env={"PYTHONPATH": str(site_dir)},
    )
    assert proc.returncode == 0, proc.stderr
    data = _findings(tmp_path / "out")
    assert data["run"]["status"] == "succeeded"
    errors = data["run"]["errors"]
    assert any(e.get("plugin") == "raiser" and "boom from raiser" in e["error"] for e in errors)
    # The links plugin still ran after the raising one.
    assert [f["rule"] for f in data["findings"]] == ["links.soft_404"]
