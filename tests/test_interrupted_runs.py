"""A stopped audit is never a baseline, and a killed one does not stay 'running' (issue 17, 5).

Real `govaudit audit` processes against a slow site on loopback: Ctrl-C (SIGINT) mid-crawl
leaves the run `interrupted`, exit 130, the previous good run's reports unchanged, and the
next run compares with the last good run; a run killed with SIGKILL is recovered by
`govaudit runs` and by the next `govaudit audit`, and its half-written files are removed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reports.store import Store
from tests.loopback import LoopbackServer, run_govaudit

PAGES = 30


@pytest.fixture()
def slow_site():
    with LoopbackServer() as srv:
        for n in range(PAGES):
            links = "".join(f'<a href="/p{m}">第{m}页</a>' for m in range(n + 1, min(n + 4, PAGES)))
            srv.route(
                f"/p{n}" if n else "/",
                html=f'<html><title>第{n}页</title><body>{links}<a href="/gone{n}">失效{n}</a></body></html>',
                delay=0.3 if n else 0.0,
            )
        yield srv


def _start(srv: LoopbackServer, data: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "govaudit.cli",
            "audit",
            srv.url("/"),
            "--plugins",
            "links",
            "--data-dir",
            str(data),
            "--out",
            str(out),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_requests(srv: LoopbackServer, n: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while len(srv.requests) < n:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the crawl did not start"
        time.sleep(0.05)


def test_ctrl_c_mid_crawl_is_interrupted_and_never_a_baseline(slow_site, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    good = run_govaudit(
        "audit",
        slow_site.url("/"),
        "--plugins",
        "links",
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "-q",
        timeout=300,
    )
    assert good.returncode == 1, good.stderr
    before = (out / "findings.json").read_bytes()
    n_broken = len(json.loads(before)["findings"])
    assert n_broken == PAGES

    seen = len(slow_site.requests)
    proc = _start(slow_site, data, out)
    _wait_for_requests(slow_site, seen + 6, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    runs = {r.id: r for r in Store.in_dir(data).list_runs()}
    assert runs[2].status == "interrupted"
    assert (out / "findings.json").read_bytes() == before  # the good run's reports stay

    third = run_govaudit(
        "audit",
        slow_site.url("/"),
        "--plugins",
        "links",
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "-q",
        timeout=300,
    )
    assert third.returncode == 1, third.stderr
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    states = [f["state"] for f in doc["findings"]]
    # Compared with run 1 (all 30 broken links seen there), not with the partial run 2.
    assert states == ["open"] * PAGES


def test_a_killed_run_is_recovered_by_runs_and_audit(slow_site, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    proc = _start(slow_site, data, out)
    _wait_for_requests(slow_site, 4, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    store = Store.in_dir(data)
    (run,) = store.list_runs()
    assert run.status == "running"
    leftover = store.run_dir(run.id) / f".report.html.tmp{proc.pid}"
    leftover.write_text("half")

    listing = run_govaudit("runs", "--data-dir", str(data))
    assert listing.returncode == 0, listing.stderr
    assert "no longer exists" in listing.stderr
    assert "running" not in listing.stdout
    assert Store.in_dir(data).get_run(run.id).status == "failed"
    assert not leftover.exists()
