"""The store, snapshots, reaudit, and third-party plugins found through entry points.

The store's tests run against both backends: the embedded SQLite and a real PostgreSQL
server (tests/dbservers.py starts one on loopback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime

import pytest

from core.snapshot import Link, LinkCheck, LinkStatus, Page, StatusKind
from reports.store import Store

HOME = "http://www.lcnr.gov.cn/"


def _seed(store: Store, status: str = "succeeded") -> int:
    run_id = store.create_run(HOME, {}, [HOME])
    store.add_pages(
        run_id,
        [
            Page(
                url=HOME,
                final_url=HOME,
                status_code=200,
                title="首页",
                html="<title>首页</title>",
                fetched_at=datetime(2026, 11, 1),
            ),
            Page(
                url=HOME + "a.html",
                final_url=HOME + "a.html",
                status_code=200,
                title="",
                html="<p>无标题页面</p>",
                depth=1,
            ),
        ],
    )
    store.add_links(
        run_id, [Link(HOME, HOME + "a.html", "a", "无标题"), Link(HOME, HOME + "gone", "a", "失效")]
    )
    store.add_checks(
        run_id,
        [
            LinkCheck(
                HOME + "gone", LinkStatus(StatusKind.HTTP_ERROR, 404), redirects=[(301, HOME + "x")]
            )
        ],
    )
    store.update_run(run_id, pages_crawled=2, links_checked=2)
    store.finish_run(run_id, status)
    return run_id


def test_snapshot_round_trip(backend):
    url, data = backend
    store = Store.in_dir(data, url)
    run_id = _seed(store)
    snap = store.snapshot(run_id)
    assert snap.homepage_url == HOME
    pages = list(snap.pages())
    assert [p.title for p in pages] == ["首页", ""]
    assert pages[0].html == "<title>首页</title>"
    assert all(p.html is None for p in snap.pages(with_html=False))
    assert [link.text for link in snap.links_from(HOME)] == ["无标题", "失效"]
    check = snap.check(HOME + "gone")
    assert (
        check is not None
        and check.status.kind is StatusKind.HTTP_ERROR
        and check.status.code == 404
    )
    assert check.redirects == [(301, HOME + "x")]
    assert check.status.describe() == "HTTP错误 404"


def test_failed_run_never_becomes_the_last_good_run(backend):
    url, data = backend
    store = Store.in_dir(data, url)
    good = _seed(store)
    _seed(store, status="failed")
    running = store.create_run(HOME, {}, [HOME])
    assert store.last_good_run(HOME).id == good
    assert store.previous_good_run(HOME, before=running).id == good
    assert [r.id for r in store.stale_running_runs()] == [running]


@pytest.fixture()
def thirdparty(tmp_path):
    """A plugin package installed the way a third party ships one: a dist with an entry point."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "thirdparty_audit.py").write_text(
        textwrap.dedent(
            """
            from audits.base import AuditPlugin, Finding, RuleSpec, Severity

            class Raising(AuditPlugin):
                name = "raiser"
                title = "总是出错的插件"
                rules = []
                def check_page(self, page):
                    raise RuntimeError("boom on " + page.url)

            class Untitled(AuditPlugin):
                name = "untitled"
                title = "标题检查"
                rules = [RuleSpec("untitled.page", "页面无标题", Severity.ERROR, "测试依据", "补充标题", "综合组")]
                def check_page(self, page):
                    if not page.title:
                        yield Finding(rule="untitled.page", url=page.final_url, page=page.final_url,
                                      message="页面无标题<script>")
            """
        ),
        encoding="utf-8",
    )
    dist = root / "thirdparty_audit-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-audit\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[govaudit.audits]\nraiser = thirdparty_audit:Raising\nuntitled = thirdparty_audit:Untitled\n"
    )
    return root


def _run(args, pythonpath, cwd):
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run(
        [sys.executable, "-m", "govaudit.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def _db_args(url, data, tmp_path):
    """--data-dir, and with a database URL a config naming it."""
    if url is None:
        return ["--data-dir", str(data)]
    cfg = tmp_path / "db.toml"
    cfg.write_text(f'data_dir = "{data}"\ndatabase_url = "{url}"\n', encoding="utf-8")
    return ["--config", str(cfg)]


def test_reaudit_with_thirdparty_plugins_and_a_raising_one(tmp_path, thirdparty, backend):
    url, data = backend
    run_id = _seed(Store.in_dir(data, url))
    db = _db_args(url, data, tmp_path)
    listed = _run(["plugins"], thirdparty, tmp_path)
    assert "untitled.page" in listed.stdout and "raiser" in listed.stdout

    out = tmp_path / "out"
    result = _run(
        [
            "reaudit",
            str(run_id),
            "--plugins",
            "raiser,untitled",
            *db,
            "--out",
            str(out),
        ],
        thirdparty,
        tmp_path,
    )
    assert result.returncode == 1, result.stderr  # an error-level finding, and the run went on
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc["schema"] == 1
    assert doc["run"]["status"] == "succeeded"
    assert doc["run"]["plugins"] == ["raiser", "untitled"]
    assert [e["plugin"] for e in doc["run"]["errors"]] == ["raiser"]
    assert "boom on" in doc["run"]["errors"][0]["error"]
    (finding,) = doc["findings"]
    assert finding["rule"] == "untitled.page" and finding["unit"] == "综合组"
    assert finding["url"] == HOME + "a.html" and finding["severity"] == "error"
    assert len(finding["fingerprint"]) == 16
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "页面无标题&lt;script&gt;" in html and "页面无标题<script>" not in html
    assert "raiser" in html  # the failed plugin is shown in the report

    # a second reaudit gives the same fingerprint: findings are tracked across runs
    again = _run(
        [
            "reaudit",
            str(run_id),
            "--plugins",
            "untitled",
            *db,
            "--out",
            str(out),
        ],
        thirdparty,
        tmp_path,
    )
    assert again.returncode == 1
    doc2 = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    assert doc2["findings"][0]["fingerprint"] == finding["fingerprint"]
    assert doc2["run"]["id"] != doc["run"]["id"]


def test_reaudit_of_unknown_run_exits_2(tmp_path, thirdparty):
    result = _run(["reaudit", "999", "--data-dir", str(tmp_path)], thirdparty, tmp_path)
    assert result.returncode == 2 and "no run 999" in result.stderr


def test_runs_starting_together_on_a_fresh_data_dir_all_get_a_store(tmp_path, backend):
    """Several audits (or the scheduler and a manual run) may create the schema at once."""
    url, _data = backend
    code = (
        "import sys; from reports.store import Store; from reports.mail import ensure_outbox;"
        "s = Store.in_dir(sys.argv[1], sys.argv[2] or None); ensure_outbox(s);"
        "print(s.create_run('x', {}, []))"
    )
    ids: list[int] = []
    for attempt in range(3):
        data = tmp_path / f"data{attempt}"
        db = ""
        if url is not None:  # a fresh database each attempt, as a fresh data dir
            db = url if attempt == 0 else _fresh_db(url)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(data), db],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            ids.append(int(out))
    assert sorted(ids) == sorted([1, 2, 3, 4, 5, 6] * 3)


def _fresh_db(url: str) -> str:
    import uuid

    import psycopg

    base, _, _name = url.rpartition("/")
    name = "t_" + uuid.uuid4().hex[:12]
    dsn = base.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"
