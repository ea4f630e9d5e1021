"""``govaudit demo``: --serve-only serves until Ctrl-C; the data dir decides the revision."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import dns.resolver
import pytest

from govaudit.demo import _anchor, _has_good_demo_run, _start
from govaudit.demo.server import DemoSite
from reports.store import Store


def _read_until(proc: subprocess.Popen, marker: str, timeout: float = 30) -> str:
    out, deadline = "", time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out += line
        if marker in line:
            return out
    raise AssertionError(f"no {marker!r} in output:\n{out}")


def test_serve_only_prints_urls_serves_and_stops_on_ctrl_c(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "govaudit.cli", "demo", "--serve-only", "--today", "2026-11-26"]
        + ["--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out = _read_until(proc, "Ctrl-C")
        base = re.search(r"演示网站：(http://www\.lcnr\.gov\.cn:(\d+)/)", out)
        dns_server = re.search(r"DNS 服务器：127\.0\.0\.1:(\d+)", out)
        assert base and dns_server, out
        assert "ipv6_unreachable" in out and "demo.toml" in out
        r = dns.resolver.Resolver(configure=False)
        r.nameservers, r.port, r.lifetime = ["127.0.0.1"], int(dns_server[1]), 2
        assert r.resolve("www.lcnr.gov.cn", "A")[0].address == "127.0.0.1"
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", int(base[2]), timeout=5)
        conn.request("GET", "/zwgk/zn/", headers={"Host": f"www.lcnr.gov.cn:{base[2]}"})
        resp = conn.getresponse()
        assert resp.status == 200 and "二〇二六年十一月二日" in resp.read().decode()
        # The port is remembered so the next demo run has the same URLs.
        state = json.loads((tmp_path / "demo-state.json").read_text())
        assert state == {"port": int(base[2]), "anchor": "2026-11-26"}
        assert (tmp_path / "demo.toml").is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, proc.stderr.read()


def test_next_demo_run_reuses_the_port_and_picks_revision_2(tmp_path):
    from datetime import date

    assert not _has_good_demo_run(tmp_path)
    first = _start(date(2026, 11, 26), 1, 0, tmp_path)
    port = first.port
    first.stop()
    # Later runs keep the first run's anchor (article URLs carry dates) and port.
    assert _anchor(None, tmp_path) == date(2026, 11, 26)
    assert _anchor("2026-12-01", tmp_path) == date(2026, 12, 1)
    again = _start(_anchor(None, tmp_path), 2, 0, tmp_path)
    try:
        assert again.port == port and again.revision == 2
    finally:
        again.stop()
    # A failed run does not count; a succeeded run of the demo site does.
    store = Store.in_dir(tmp_path)
    url = f"http://www.lcnr.gov.cn:{port}/"
    failed = store.create_run(site=url, config={}, start_urls=[url])
    store.finish_run(failed, "failed")
    assert not _has_good_demo_run(tmp_path)
    ok = store.create_run(site=url, config={}, start_urls=[url])
    store.finish_run(ok, "succeeded")
    assert _has_good_demo_run(tmp_path)


def test_busy_remembered_port_falls_back_to_a_free_one(tmp_path, capsys):
    from datetime import date

    with DemoSite(anchor=date(2026, 11, 26)) as holder:
        (tmp_path / "demo-state.json").write_text(json.dumps({"port": holder.port}))
        demo = _start(date(2026, 11, 26), 1, 0, tmp_path)
        try:
            assert demo.port != holder.port
        finally:
            demo.stop()
    assert "busy" in capsys.readouterr().err
    with pytest.raises(OSError):
        with DemoSite(anchor=date(2026, 11, 26)) as holder:
            _start(date(2026, 11, 26), 1, holder.port, Path(tmp_path))


def test_demo_process_serves_from_a_child_and_stops_with_its_parent():
    import http.client
    import os
    from datetime import date

    from govaudit.demo.server import DemoProcess

    demo = DemoProcess(anchor=date(2026, 11, 26), revision=2).start()
    try:
        pid = demo._proc.pid
        assert pid != os.getpid()
        conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=5)
        conn.request("GET", "/", headers={"Host": f"www.lcnr.gov.cn:{demo.port}"})
        assert conn.getresponse().status == 200
        r = dns.resolver.Resolver(configure=False)
        host, port = demo.dns_server.split(":")
        r.nameservers, r.port, r.lifetime = [host], int(port), 2
        assert r.resolve("m.lcnr.gov.cn", "AAAA")[0].address == "::1"
        assert demo.content.revision == 2 and demo.base_url.endswith(f":{demo.port}/")
    finally:
        demo.stop()
    with pytest.raises(ProcessLookupError):
        for _ in range(50):
            os.kill(pid, 0)
            time.sleep(0.1)
    with pytest.raises(OSError):
        socket_conn = http.client.HTTPConnection("127.0.0.1", demo.ports.www, timeout=2)
        socket_conn.request("GET", "/")


@pytest.mark.slow
def test_demo_audits_revision_1_then_revision_2_shows_the_fix(tmp_path):
    """Two `govaudit demo` runs (links only, homepage only, to stay quick): the second is
    revision 2 on the same URLs, and the homepage's broken link shows as 已整改."""
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[plugins]\nenabled = ["links"]\n\n[crawl]\nmax_depth = 0\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "govaudit.cli", "demo", "--config", str(cfg)]
    cmd += ["--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out")]
    first = subprocess.run(
        [*cmd, "--today", "2026-11-26"], capture_output=True, text=True, timeout=240
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert "第 1 版" in first.stdout and "report: " in first.stdout
    findings = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    broken = [f["url"] for f in findings["findings"] if f["rule"] == "links.broken"]
    assert [u.split("/", 3)[3] for u in broken] == ["ztzl/sdgtdc/"]
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    assert second.returncode == 0, second.stderr[-2000:]
    assert "第 2 版" in second.stdout and "日期基准 2026-11-26" in second.stdout
    assert re.search(
        r"已整改：links\.broken http://www\.lcnr\.gov\.cn:\d+/ztzl/sdgtdc/", second.stdout
    )
    findings2 = json.loads((tmp_path / "out" / "findings.json").read_text(encoding="utf-8"))
    assert findings2["run"]["site"] == findings["run"]["site"]
    assert [f["url"] for f in findings2["fixed"]] == broken
