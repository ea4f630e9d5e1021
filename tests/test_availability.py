"""Homepage availability: the service probes a loopback homepage that the test makes slow,
refusing and failing, stores every probe, mails one down alert and one recovery through a
real SMTP server (aiosmtpd), and the audit reads the probe log into its finding and the
scorecard's veto row.
"""

from __future__ import annotations

import email
import json
import re
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller

from core.availability import Probe, figures, outages
from core.config import load_config
from core.snapshot import StatusKind
from govaudit.cli import main
from reports import availability as avail
from reports.store import Store
from scheduler import Service

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ScriptedHome:
    """A homepage on a fixed loopback port that is up, slow, failing or refusing, as the
    test says (``mode``); refusing closes the listening socket, up again re-opens it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "up"
        self.server: ThreadingHTTPServer | None = None
        self._open()

    def _open(self) -> None:
        home = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if home.mode == "slow":
                    time.sleep(2.0)
                status = 500 if home.mode == "error" else 200
                body = (
                    "<html><head><title>首页</title></head><body><a href='/a'>a</a></body></html>"
                )
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def set(self, mode: str) -> None:
        if mode == "refuse" and self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        elif mode != "refuse" and self.server is None:
            self._open()
        self.mode = mode

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class Sink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def write_config(path: Path, home: ScriptedHome, smtp_port: int, min_hours: float) -> Path:
    path.write_text(
        f"""data_dir = {json.dumps(str(path.parent / "data"))}

[site]
name = "测试局"
urls = [{json.dumps(home.url())}]

[crawl]
obey_robots = false
check_external = false
retries = 0

[plugins]
enabled = ["availability", "links"]

[availability]
interval_seconds = 0.4
jitter_seconds = 0
timeout = 0.7
alert_after = 3
min_hours = {min_hours}

[mail]
host = "127.0.0.1"
port = {smtp_port}
sender = "govaudit@example.org"
info_centre = ["xxzx@example.org"]
backoff_seconds = 1

[serve]
port = {free_port()}
""",
        encoding="utf-8",
    )
    return path


def probe_count(store: Store, site: str) -> int:
    return len(avail.latest_probes(store, site, 10_000))


def wait_probes(store: Store, site: str, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while probe_count(store, site) < n:
        assert time.monotonic() < deadline, f"fewer than {n} probes after {timeout} s"
        time.sleep(0.01)


def test_figures_ratio_and_longest_outage() -> None:
    t0 = datetime(2026, 11, 1, 8, 0)
    pattern = "uuuddduuuuddddduuu"
    log = [
        Probe(
            t0 + timedelta(minutes=10 * i),
            c == "u",
            StatusKind.OK if c == "u" else StatusKind.TIMEOUT,
        )
        for i, c in enumerate(pattern)
    ]
    fig = figures(log, t0, t0 + timedelta(days=7), min_hours=24)
    assert (fig.probes, fig.failures) == (18, 8)
    assert abs(fig.ratio - 8 / 18) < 1e-9
    assert not fig.checked  # 170 minutes of probes: not a day
    assert fig.longest is not None and fig.longest.probes == 5
    assert fig.longest.start == t0 + timedelta(minutes=100)
    assert fig.longest.end == t0 + timedelta(minutes=150)
    assert len(outages(log)) == 2
    assert figures(log, t0, t0 + timedelta(days=7), min_hours=2).checked


def test_service_probes_alerts_once_down_once_back_and_the_audit_measures_it(tmp_path) -> None:
    home = ScriptedHome()
    sink = Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    cfg = write_config(tmp_path / "govaudit.toml", home, smtp.port, min_hours=24)
    config = load_config(cfg)
    site = home.url()
    store = Store.in_dir(config.data_dir)
    service = Service(cfg, config)
    try:
        service.start()
        wait_probes(store, site, 3)
        assert sink.messages == []
        home.set("slow")  # a 2 s answer against a 0.7 s limit: timeout
        wait_probes(store, site, 5)
        home.set("refuse")
        wait_probes(store, site, 7)
        home.set("error")  # HTTP 500
        wait_probes(store, site, 8)
        deadline = time.monotonic() + 10
        while len(sink.messages) < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        home.set("up")
        wait_probes(store, site, 14)
        deadline = time.monotonic() + 10
        while len(sink.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # more good probes: nothing more is sent
    finally:
        service.stop(grace=5)
        smtp.stop()
    try:
        check_log_and_audit(tmp_path, cfg, store, site, home, sink, smtp.port)
    finally:
        home.close()


def check_log_and_audit(tmp_path, cfg, store, site, home, sink, smtp_port) -> None:
    log = list(reversed(avail.latest_probes(store, site, 10_000)))
    kinds = "".join(
        {
            StatusKind.OK: "u",
            StatusKind.TIMEOUT: "t",
            StatusKind.CONNECTION_REFUSED: "r",
            StatusKind.CONNECTION_RESET: "r",  # a probe caught while the socket closes
            StatusKind.HTTP_ERROR: "e",
        }[p.kind]
        for p in log
    )
    # Up, then down in every way (each probe typed), then up again; one outage.
    assert re.fullmatch(r"u+t+r+e*u+", kinds) or re.fullmatch(r"u+t+r+e+u+", kinds), kinds
    assert [p.code for p in log if p.kind is StatusKind.HTTP_ERROR] == [500] * kinds.count("e")
    assert all(p.latency_ms is not None for p in log)
    failures = sum(1 for p in log if not p.ok)
    assert failures >= 3 and len(outages(log)) == 1

    # Exactly one down alert and one recovery mail, to the administrators.
    subjects = [str(m["Subject"]) for _to, m in sink.messages]
    assert len(sink.messages) == 2, subjects
    assert "首页无法访问" in subjects[0] and "首页已恢复访问" in subjects[1]
    assert all(to == ["xxzx@example.org"] for to, _m in sink.messages)
    assert f"连续 {failures} 次" in sink.messages[1][1].get_content()

    # Fewer than a day of probes: the audit says not checked, the scorecard 未检测.
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "govaudit.cli", "audit", "--config", str(cfg), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "findings.json").read_text(encoding="utf-8"))
    rules = {f["rule"]: f for f in doc["findings"]}
    assert "availability.not_checked" in rules and "availability.homepage_down" not in rules
    row = next(i for i in doc["scorecard"]["items"] if i["title"].startswith("首页一周内"))
    assert row["status"] == "未检测"

    # Enough probes (the threshold lowered to the test's minutes): measured, and failing.
    cfg2 = write_config(tmp_path / "enough.toml", home, smtp_port, min_hours=0.0005)
    run_id = doc["run"]["id"]
    out2 = tmp_path / "out2"
    assert main(["reaudit", str(run_id), "--config", str(cfg2), "--out", str(out2)]) == 1
    doc = json.loads((out2 / "findings.json").read_text(encoding="utf-8"))
    down = next(f for f in doc["findings"] if f["rule"] == "availability.homepage_down")
    ev = down["evidence"]
    assert ev["probes"] == len(log) and ev["failures"] == failures
    assert abs(ev["ratio"] - round(failures / len(log), 4)) < 1e-9
    assert ev["longest_outage"]["probes"] == failures and ev["longest_outage"]["end"]
    row = next(i for i in doc["scorecard"]["items"] if i["title"].startswith("首页一周内"))
    assert row["status"] == "不通过" and f"失败{failures}次" in row["value"]
    html = (out2 / "report.html").read_text(encoding="utf-8")
    strip = re.search(r'<svg class="avail-strip".*?</svg>', html, re.S)
    assert strip is not None
    assert strip.group(0).count('fill="#c0392b"') == failures
    assert strip.group(0).count('fill="#27ae60"') == len(log) - failures

    # The command prints the same figures.
    proc = subprocess.run(
        [sys.executable, "-m", "govaudit.cli", "availability", "--config", str(cfg2)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert f"探测 {len(log)} 次，失败 {failures} 次" in proc.stdout
    assert "不通过" in proc.stdout and "最长中断" in proc.stdout
