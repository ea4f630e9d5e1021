"""Many sites on many workers: ``executor = "celery"`` with Redis and PostgreSQL, for real.

Three loopback sites in one config (``[[sites]]``), one ``govaudit serve`` scheduling them,
two ``govaudit worker`` processes (one run at a time each) sharing a PostgreSQL database and a
data directory. One worker is killed with SIGKILL while its run is mid-crawl: the run is
redelivered to the other worker after the visibility timeout and completes — once, in one
row — and every unit gets exactly one message per run. The dashboard, checked in Chromium,
lists all three sites.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from reports.store import Store, runs
from tests.loopback import LoopbackServer, Reply
from tests.test_scheduler_service import free_port, toml, wait_for

SITES = ("alpha", "beta", "gamma")


class Site:
    """A small site whose /slow.html waits for a gate: runs can be caught mid-crawl."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gate = threading.Event()
        self.srv = LoopbackServer().start()
        links = "".join(f"<a href='/p{i}.html'>第{i}页</a> " for i in range(8))
        self.srv.route(
            "/",
            html=f"<html><head><title>{name}首页</title></head><body>{links}"
            "<a href='/slow.html'>慢</a> <a href='/gone.html'>失效</a> "
            "<a href='/ghfw/index.html'>规划</a></body></html>",
        )
        for i in range(8):
            self.srv.route(f"/p{i}.html", html=f"<html><head><title>{i}</title></head><body>{i}")
        self.srv.route("/gone.html", status=404)
        self.srv.route(
            "/ghfw/index.html",
            html="<html><head><title>规划</title></head><body>"
            "<a href='/ghfw/gone.html'>规划失效</a></body></html>",
        )
        self.srv.route("/ghfw/gone.html", status=404)
        self.srv.route("/slow.html", handler=self._slow)

    def _slow(self, _request) -> Reply:
        self.gate.wait(120)
        return Reply(200, b"<html><head><title>slow</title></head><body>ok</body></html>")

    def at_gate(self) -> bool:
        return bool(self.srv.requests_for("/slow.html", "GET"))

    def close(self) -> None:
        self.gate.set()
        self.srv.stop()


class SmtpSink:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"


class Proc:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self.out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "govaudit.cli", *args],
            stdout=self.out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "GOVAUDIT_TODAY": "2026-11-25", "GOVAUDIT_STOP_GRACE": "2"},
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.out.close()


def once_at(moment: datetime) -> str:
    """A 6-field cron that fires at ``moment`` (and next year)."""
    return f"{moment.second} {moment.minute} {moment.hour} {moment.day} {moment.month} *"


@pytest.mark.slow
def test_three_sites_two_workers_one_killed_every_run_once_and_mailed_once(
    tmp_path, pg_url, redis_server
):
    from aiosmtpd.controller import Controller

    sites = {name: Site(name) for name in SITES}
    sink = SmtpSink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtp.start()
    procs: list[Proc] = []
    data = tmp_path / "data"
    port = free_port()
    fire = datetime.now() + timedelta(seconds=60)  # after the service has started (slow CI)
    cfg = {
        "data_dir": str(data),
        "database_url": pg_url,
        "executor": "celery",
        "crawl": {"timeout": 60, "retries": 0, "obey_robots": False, "check_external": False},
        "plugins": {"enabled": ["links"]},
        "availability": {"enabled": False},
        "serve": {"port": port, "run_timeout": 40},
        "workers": {"broker_url": redis_server.url, "visibility_timeout": 45},
        "mail": {
            "host": "127.0.0.1",
            "port": smtp.port,
            "sender": "govaudit@example.org",
            "info_centre": ["xxzx@example.org"],
            "backoff_seconds": 2,
        },
        "sites": [
            {
                "name": name,
                "title": f"{name}局",
                "urls": [site.srv.url("/")],
                "units": {
                    "default": "信息中心",
                    "unit": [
                        {"name": "信息中心", "emails": [f"xxzx-{name}@example.org"]},
                        {"name": "规划科", "emails": [f"ghk-{name}@example.org"]},
                    ],
                    "map": [{"prefix": "/ghfw/", "unit": "规划科"}],
                },
                "schedule": [{"name": "weekly", "cron": once_at(fire)}],
            }
            for name, site in sites.items()
        ],
    }
    path = tmp_path / "sites.toml"
    path.write_text(toml(cfg), encoding="utf-8")
    store = Store.in_dir(data, pg_url)
    try:
        serve = Proc(["serve", "--config", str(path)], tmp_path / "serve.log")
        procs.append(serve)
        workers = [
            Proc(
                ["worker", "--config", str(path), "--concurrency", "1"],
                tmp_path / f"worker{i}.log",
            )
            for i in range(2)
        ]
        procs += workers
        wait_for(lambda: "reports at" in serve.text(), 90, "the scheduler", serve.proc)
        for w in workers:
            wait_for(lambda w=w: "ready" in w.text(), 90, "a worker", w.proc)
        listing = subprocess.run(
            [sys.executable, "-m", "govaudit.cli", "schedule", "list", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert all(f"{n}/weekly" in listing.stdout for n in SITES), listing.stdout

        def rows() -> list[dict]:
            with store.engine.connect() as conn:
                return [dict(r) for r in conn.execute(select(runs).order_by(runs.c.id)).mappings()]

        # Two runs start (one per worker); catch one at its gate and kill its worker.
        def victim_row():
            for r in rows():
                if r["status"] == "running" and r["pid"]:
                    site = next(s for s in sites.values() if r["site"] == s.srv.url("/"))
                    if site.at_gate():
                        return r
            return None

        victim = wait_for(victim_row, 120, "a run mid-crawl")
        worker_pid = psutil.Process(victim["pid"]).parent().pid
        killed = next(w for w in workers if w.proc.pid == worker_pid)
        os.kill(worker_pid, signal.SIGKILL)
        killed.proc.wait(10)
        wait_for(lambda: not psutil.pid_exists(victim["pid"]), 20, "the run's child to die")
        for s in sites.values():
            s.gate.set()

        def all_done():
            got = rows()
            return len(got) == 3 and all(r["status"] == "succeeded" for r in got) and got

        done = wait_for(all_done, 240, "every run to succeed")
        assert len({r["run_key"] for r in done}) == 3
        assert {r["site"] for r in done} == {s.srv.url("/") for s in sites.values()}
        again = next(r for r in done if r["id"] == victim["id"])
        assert any("redelivered" in e["error"] for e in again["errors"])

        # Mail: per run, each unit with open findings once, and the information centre once.
        expected = 3 * 3  # 信息中心, 规划科, summary
        wait_for(lambda: len(sink.messages) >= expected, 90, "the mail")
        time.sleep(3)
        assert len(sink.messages) == expected, [m["Subject"] for _, m in sink.messages]
        ids = [str(m["Message-ID"]) for _, m in sink.messages]
        assert len(set(ids)) == expected
        rcpts = sorted(to[0] for to, _ in sink.messages)
        for name in SITES:
            assert rcpts.count(f"xxzx-{name}@example.org") == 1
            assert rcpts.count(f"ghk-{name}@example.org") == 1
        assert rcpts.count("xxzx@example.org") == 3

        # The dashboard, in Chromium: all three sites, each linking to its report.
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            rows_text = page.locator("#sites tr.site").all_inner_texts()
            assert len(rows_text) == 3
            for name in SITES:
                assert any(f"{name}局" in t for t in rows_text)
            assert all(("合格" in t or "不合格" in t) for t in rows_text)
            hrefs = page.locator("#sites tr.site a").evaluate_all("els => els.map(e => e.href)")
            assert len(hrefs) == 3
            page.goto(hrefs[0])
            assert page.title()
            browser.close()
        assert "Traceback" not in serve.text()
    finally:
        for p in procs:
            p.stop()
        smtp.stop()
        for s in sites.values():
            s.close()
