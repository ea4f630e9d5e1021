"""`govaudit serve`: scheduled audits in child processes, crash safety, clean stop.

Everything is real: the service runs as a subprocess, each run is a real `govaudit audit`
child crawling a loopback site (or the demo site), the jobs live in the SQLite database.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from core.config import ConfigError, config_from_dict
from scheduler import Service, crontab_day_of_week, parse_cron, schedule_entries
from tests.loopback import LoopbackServer, Reply

TODAY = "2026-11-25"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml(data: dict, prefix: str = "") -> str:
    """Enough TOML for these configs (scalars, lists, tables, arrays of tables)."""
    lines, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict)):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {json.dumps(v, ensure_ascii=False)}")
    for k, v in tables:
        name = f"{prefix}{k}"
        for item in [v] if isinstance(v, dict) else v:
            lines.append(f"\n[{name}]" if isinstance(v, dict) else f"\n[[{name}]]")
            lines.append(toml(item, f"{name}."))
    return "\n".join(lines)


class Db:
    def __init__(self, data: Path) -> None:
        self.path = data / "govaudit.sqlite"

    def runs(self) -> list[dict]:
        if not self.path.exists():
            return []
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in con.execute("select * from runs order by id")]
        except sqlite3.OperationalError:
            return []
        finally:
            con.close()

    def run(self, run_id: int) -> dict:
        return next(r for r in self.runs() if r["id"] == run_id)


def wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"service exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


class ServiceProc:
    """`govaudit serve` as a subprocess, its output in a file."""

    def __init__(self, config: Path, log: Path, env: dict | None = None) -> None:
        self.log = log
        self.out = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "govaudit.cli", "serve", "--config", str(config)],
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GOVAUDIT_TODAY": TODAY, **(env or {})},
        )
        wait_for(lambda: "reports at" in self.text(), 60, "the service to start", self.proc)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.out.close()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.out.close()


# ---- schedules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0,6", "sun,sat"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-wed", "mon,tue,wed"),
        ("*", "*"),
    ],
)
def test_crontab_day_of_week_means_what_crontab_means(field, expected):
    assert crontab_day_of_week(field) == expected


def test_cron_triggers_fire_when_crontab_would():
    monday = datetime(2026, 11, 30, 0, 0).astimezone()  # a Monday
    trigger = parse_cron("0 2 * * 1", monday.tzinfo)
    fire = trigger.get_next_fire_time(None, monday)
    assert (fire.weekday(), fire.hour, fire.minute) == (0, 2, 0)
    six = parse_cron("*/5 * * * * *", monday.tzinfo)
    first = six.get_next_fire_time(None, monday + timedelta(seconds=1))
    assert first == monday + timedelta(seconds=5)


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ([{"cron": "0 2 * *"}], "has 4 fields"),
        ([{"cron": "0 25 * * *"}], "schedule[0].cron"),
        ([{"cron": "0 2 * * 8"}], "day of the week"),
        ([{"cron": "0 2 * * 1", "name": "a"}, {"cron": "0 3 * * 1", "name": "a"}], "used twice"),
    ],
)
def test_bad_schedules_are_config_errors(schedule, fragment):
    config = config_from_dict({"site": {"urls": ["http://127.0.0.1:9/"]}, "schedule": schedule})
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        schedule_entries(config)


# ---- a gated loopback site: runs block on /slow until the test opens the gate ----------------


class GatedSite:
    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.srv = LoopbackServer().start()
        self.srv.route(
            "/",
            html="<html><head><title>首页</title></head><body>"
            "<a href='/a.html'>a</a> <a href='/slow.html'>slow</a> <a href='/gone.html'>gone</a>"
            "</body></html>",
        )
        self.srv.route("/a.html", html="<html><head><title>A</title></head><body>a</body></html>")
        self.srv.route("/gone.html", status=404)
        self.srv.route("/slow.html", handler=self._slow)

    def _slow(self, _request) -> Reply:
        self.gate.wait(90)
        return Reply(200, b"<html><head><title>slow</title></head><body>ok</body></html>")

    def slow_requests(self) -> int:
        return len(self.srv.requests_for("/slow.html", "GET"))

    def close(self) -> None:
        self.gate.set()
        self.srv.stop()


@pytest.fixture
def gated():
    site = GatedSite()
    yield site
    site.close()


def gated_config(tmp_path: Path, site: GatedSite, **serve) -> Path:
    data = tmp_path / "data"
    cfg = {
        "data_dir": str(data),
        "site": {"name": "测试局", "urls": [site.srv.url("/")]},
        "crawl": {"timeout": 60, "retries": 0, "obey_robots": False, "check_external": False},
        "plugins": {"enabled": ["links"]},
        "units": {"unit": [{"name": "信息中心", "emails": ["xxzx@example.org"]}]},
        "schedule": [{"name": "often", "cron": "*/2 * * * * *"}],
        "serve": {"port": free_port(), "misfire_grace": 30, **serve},
    }
    path = tmp_path / "govaudit.toml"
    path.write_text(toml(cfg), encoding="utf-8")
    return path


def pid_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_kill9_of_run_and_of_service_then_restart(tmp_path, gated):
    cfg = gated_config(tmp_path, gated, run_timeout=120)
    data = tmp_path / "data"
    db = Db(data)
    svc = ServiceProc(cfg, tmp_path / "serve.log")
    try:
        # 1. A good run first.
        good = wait_for(
            lambda: next((r for r in db.runs() if r["status"] == "succeeded"), None),
            90,
            "a succeeded run",
            svc.proc,
        )
        report = data / "runs" / str(good["id"]) / "report.html"
        before = report.read_bytes()
        # No mail.host: the unit's message is written as an .eml file, and the log says where.
        wait_for(lambda: "message(s) written to" in svc.text(), 30, "the .eml files")
        assert (data / "runs" / str(good["id"]) / "mail" / "信息中心.eml").is_file()

        # 2. kill -9 of a run's child mid-crawl: the service marks the run failed.
        gated.gate.clear()
        seen = gated.slow_requests()
        victim = wait_for(
            lambda: next(
                (r for r in db.runs() if r["status"] == "running" and r["id"] > good["id"]), None
            ),
            60,
            "a running run",
            svc.proc,
        )
        wait_for(lambda: gated.slow_requests() > seen, 60, "the crawl to reach the gate")
        os.kill(victim["pid"], signal.SIGKILL)
        failed = wait_for(
            lambda: (r := db.run(victim["id"]))["status"] == "failed" and r, 30, "run failed"
        )
        assert "exited with code -9" in failed["errors"]

        # 3. The schedule carries on; kill -9 of the service mid-run.
        seen = gated.slow_requests()
        running = wait_for(
            lambda: next(
                (r for r in db.runs() if r["status"] == "running" and r["id"] > victim["id"]),
                None,
            ),
            60,
            "the next run",
            svc.proc,
        )
        wait_for(lambda: gated.slow_requests() > seen, 60, "the crawl to reach the gate")
        svc.stop(signal.SIGKILL)
        # The child dies with the service (PR_SET_PDEATHSIG); its run is left 'running'.
        wait_for(lambda: pid_gone(running["pid"]), 20, "the orphaned child to die")
        assert db.run(running["id"])["status"] == "running"

        # 4. Restart: the interrupted run is marked failed, the schedule goes on. The next
        # run is held at the gate, SIGTERM arrives, and the running audit may finish within
        # the grace period (default 120 s): it succeeds and the service exits 0.
        seen = gated.slow_requests()
        svc = ServiceProc(cfg, tmp_path / "serve2.log")
        row = db.run(running["id"])
        assert row["status"] == "failed"
        assert f"interrupted: process {running['pid']} no longer exists" in row["errors"]
        blocked = wait_for(
            lambda: next(
                (r for r in db.runs() if r["status"] == "running" and r["id"] > running["id"]),
                None,
            ),
            60,
            "a run after the restart",
            svc.proc,
        )
        wait_for(lambda: gated.slow_requests() > seen, 60, "the crawl to reach the gate")
        started = time.monotonic()
        svc.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping" in svc.text(), 10, "the service to start stopping")
        gated.gate.set()
        assert svc.proc.wait(90) == 0
        assert time.monotonic() - started < 90
        latest = db.run(blocked["id"])
        assert latest["status"] == "succeeded"
        assert "stopped" in svc.text()
        assert not (data / "serve.pid").exists()
        # The good run's report was never touched; failed runs have no report.
        assert report.read_bytes() == before
        for failed_id in (victim["id"], running["id"]):
            assert not (data / "runs" / str(failed_id) / "report.html").exists()
        assert (data / "runs" / str(latest["id"]) / "report.html").is_file()
        assert (data / "runs" / str(latest["id"]) / "audit.log").is_file()
        assert len(db.runs()) == latest["id"]  # no run started after SIGTERM
    finally:
        svc.kill()


def test_sigterm_past_grace_marks_the_run_interrupted(tmp_path, gated):
    cfg = gated_config(tmp_path, gated)
    db = Db(tmp_path / "data")
    gated.gate.clear()
    svc = ServiceProc(cfg, tmp_path / "serve.log", env={"GOVAUDIT_STOP_GRACE": "1"})
    try:
        run = wait_for(
            lambda: next((r for r in db.runs() if r["status"] == "running"), None),
            60,
            "a running run",
            svc.proc,
        )
        wait_for(lambda: gated.slow_requests() > 0, 60, "the crawl to reach the gate")
        started = time.monotonic()
        assert svc.stop(signal.SIGTERM, timeout=30) == 0
        assert time.monotonic() - started < 15
        row = db.run(run["id"])
        assert row["status"] == "interrupted"
        assert "the service stopped before the run finished" in row["errors"]
        assert pid_gone(run["pid"])
    finally:
        svc.kill()


def test_run_timeout_kills_the_child_and_marks_the_run_failed(tmp_path, gated):
    from core.config import load_config

    cfg = gated_config(tmp_path, gated, run_timeout=3)
    gated.gate.clear()
    config = load_config(cfg)
    service = Service(cfg, config)
    entry, _trigger = service.entries["often"]
    result = service.execute("often", entry)
    assert result.status == "failed" and result.reason.startswith("timeout:")
    row = Db(tmp_path / "data").run(result.run_id)
    assert row["status"] == "failed" and "serve.run_timeout (3 s)" in row["errors"]
    assert pid_gone(row["pid"])
    assert (tmp_path / "data" / "runs" / str(result.run_id) / "audit.log").is_file()


# ---- the demo site, end to end ---------------------------------------------------------------


class SmtpSink:
    """aiosmtpd handler recording (recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


def test_demo_site_audited_on_schedule_mailed_and_served(tmp_path):
    from aiosmtpd.controller import Controller

    demo_server = pytest.importorskip("govaudit.demo.server")
    data = tmp_path / "data"
    sink = SmtpSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    with demo_server.DemoSite(anchor=date.fromisoformat(TODAY), revision=1) as demo:
        cfg = demo.config_dict(data)
        port = free_port()
        cfg["plugins"] = {"enabled": ["links", "columns", "identity"]}
        cfg["schedule"] = [
            {"name": "often", "cron": "*/3 * * * * *", "max_pages": 30},
            {"name": "weekly", "cron": "0 2 * * 1"},
        ]
        cfg["serve"] = {"port": port}
        cfg["mail"] = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "govaudit@example.org",
            "info_centre": ["xxzx-leader@example.org"],
        }
        path = tmp_path / "demo.toml"
        path.write_text(toml(cfg), encoding="utf-8")
        svc = ServiceProc(path, tmp_path / "serve.log", env={"GOVAUDIT_STOP_GRACE": "1"})
        try:
            db = Db(data)
            run = wait_for(
                lambda: next((r for r in db.runs() if r["status"] != "running"), None),
                120,
                "the scheduled demo audit",
                svc.proc,
            )
            assert run["status"] == "succeeded", (
                data / "runs" / str(run["id"]) / "audit.log"
            ).read_text()
            run_dir = data / "runs" / str(run["id"])
            assert (run_dir / "report.html").is_file() and (run_dir / "整改清单.xlsx").is_file()
            # Each unit with open findings got one message, and the information centre one.
            doc = json.loads((run_dir / "findings.json").read_text(encoding="utf-8"))
            units = {f["unit"] for f in doc["findings"] if not f.get("ignored")}
            assert len(units) >= 2
            wait_for(lambda: len(sink.messages) >= len(units) + 1, 60, "the mail")
            time.sleep(0.5)
            got = {str(m["X-Govaudit-Unit"] or "summary"): to for to, m in sink.messages}
            assert len(sink.messages) == len(units) + 1
            assert set(got) == units | {"summary"}
            assert got["summary"] == ["xxzx-leader@example.org"]
            assert got["综合组"] == [demo_server.UNITS["综合组"]]
            subjects = {str(m["Subject"]) for _, m in sink.messages}
            assert f"【网站检查】综合组整改清单（{TODAY}）" in subjects
            # The reports are served.
            base = f"http://127.0.0.1:{port}"
            index = urllib.request.urlopen(base + "/", timeout=10).read().decode()
            assert f"/runs/{run['id']}/report.html" in index and "计划任务" in index
            html = urllib.request.urlopen(f"{base}/runs/{run['id']}/report.html", timeout=10).read()
            assert "网站检查报告".encode() in html or b"<html" in html
            # schedule list: both jobs with their next run time from the database.
            listing = subprocess.run(
                [sys.executable, "-m", "govaudit.cli", "schedule", "list", "--config", str(path)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert listing.returncode == 0, listing.stderr
            assert f"running (pid {svc.proc.pid})" in listing.stdout
            lines = {line.split()[0]: line for line in listing.stdout.splitlines()[1:]}
            today = datetime.now().astimezone().strftime("%Y-%m-%d")
            assert "*/3 * * * * *" in lines["often"] and f"next {today}" in lines["often"]
            assert "0 2 * * 1" in lines["weekly"] and "not registered" not in listing.stdout
            assert svc.stop() == 0
        finally:
            svc.kill()
            smtp.stop()


def test_schedule_list_before_the_service_ran(tmp_path, capsys):
    from govaudit.cli import main

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        toml(
            {
                "data_dir": str(tmp_path / "data"),
                "site": {"urls": ["http://127.0.0.1:9/"]},
                "schedule": [{"name": "weekly", "cron": "0 2 * * 1", "plugins": ["links"]}],
            }
        ),
        encoding="utf-8",
    )
    assert main(["schedule", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "service: not running" in out
    line = next(x for x in out.splitlines() if x.startswith("weekly"))
    assert "not registered yet" in line and "[links]" in line
    nxt = datetime.strptime(line.split("next ")[1][:10], "%Y-%m-%d")
    assert nxt.weekday() == 0  # crontab's 1 is Monday


def test_second_service_on_the_same_data_dir_refuses(tmp_path, capsys):
    from govaudit.cli import main

    data = tmp_path / "data"
    data.mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "serve"])
    try:
        (data / "serve.pid").write_text(f"{other.pid}\n")
        cfg = tmp_path / "c.toml"
        cfg.write_text(
            toml(
                {
                    "data_dir": str(data),
                    "site": {"urls": ["http://127.0.0.1:9/"]},
                    "serve": {"port": free_port()},
                }
            ),
            encoding="utf-8",
        )
        assert main(["serve", "--config", str(cfg)]) == 2
        assert f"another 'govaudit serve' (pid {other.pid})" in capsys.readouterr().err
        assert (data / "serve.pid").read_text().strip() == str(other.pid)
    finally:
        other.kill()
        other.wait()


def test_serve_refuses_to_start_without_the_smtp_password(tmp_path, capsys, monkeypatch):
    from govaudit.cli import main

    monkeypatch.delenv("GOVAUDIT_TEST_SMTP_PASSWORD", raising=False)
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        toml(
            {
                "data_dir": str(tmp_path / "data"),
                "site": {"urls": ["http://127.0.0.1:9/"]},
                "mail": {
                    "host": "127.0.0.1",
                    "port": 9,
                    "user": "govaudit",
                    "password_env": "GOVAUDIT_TEST_SMTP_PASSWORD",
                },
            }
        ),
        encoding="utf-8",
    )
    assert main(["serve", "--config", str(cfg)]) == 2
    assert "GOVAUDIT_TEST_SMTP_PASSWORD is not set" in capsys.readouterr().err


def test_two_schedules_of_one_site_never_overlap(tmp_path, gated):
    """A weekly full audit and a daily check firing together: the second waits, then runs."""
    from core.config import load_config

    cfg = gated_config(tmp_path, gated)
    text = cfg.read_text(encoding="utf-8") + '\n[[schedule]]\nname = "second"\ncron = "0 3 * * *"\n'
    cfg.write_text(text, encoding="utf-8")
    service = Service(cfg, load_config(cfg))
    results: dict[str, object] = {}
    threads = [
        threading.Thread(target=lambda k=k: results.__setitem__(k, service.run_schedule(k)))
        for k in ("often", "second")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert {k: r.status for k, r in results.items()} == {
        "often": "succeeded",
        "second": "succeeded",
    }
    first, second = sorted(Db(tmp_path / "data").runs(), key=lambda r: r["started_at"])
    assert second["started_at"] >= first["finished_at"]
