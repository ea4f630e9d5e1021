"""Running one scheduled audit in a child process, with a wall-clock limit: the work both
executors share (``local``: a child of ``govaudit serve``; ``celery``: a child of a worker).

Each run is ``govaudit audit --config F [--site S] --run-key K`` in its own session, without
the service's secrets, killed with its whole tree past ``serve.run_timeout``; the run key
makes the child reuse its run row when a run is delivered twice. Knows nothing of
schedules or of Celery.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.config import Config
from pipeline.audit import EXIT_BUSY
from pipeline.processes import _die_with_parent, kill_tree
from reports.store import Store, findings

log = logging.getLogger("govaudit.scheduler")


@dataclass
class RunRequest:
    """One scheduled run, as the scheduler sends it to an executor (JSON-able)."""

    schedule: str
    run_key: str
    site: str | None = None  # [[sites]] name; None: the config's only site
    plugins: list[str] | None = None
    max_pages: int | None = None


@dataclass
class RunResult:
    run_id: int | None
    status: str  # succeeded | failed | interrupted | skipped | busy
    exit_code: int | None = None
    reason: str = ""


def child_command(config_path: Path, data_dir: Path, req: RunRequest) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "govaudit.cli",
        "audit",
        "--config",
        str(config_path),
        "--data-dir",
        str(data_dir),
        "--run-key",
        req.run_key,
    ]
    if req.site:
        cmd += ["--site", req.site]
    if req.plugins:
        cmd += ["--plugins", ",".join(req.plugins)]
    if req.max_pages:
        cmd += ["--max-pages", str(req.max_pages)]
    return cmd


def child_env(config: Config) -> dict[str, str]:
    """This process's environment without its secrets (an audit needs neither)."""
    env = dict(os.environ)
    for name in (config.mail.password_env, config.serve.token_env):
        if name:
            env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_in_child(
    config_path: Path,
    config: Config,
    store: Store,
    req: RunRequest,
    stop_deadline: Callable[[], float | None] = lambda: None,
) -> RunResult:
    """Run one audit in a child process and record how it ended.

    ``config`` is the site's configuration; ``stop_deadline()`` gives the monotonic time at
    which a stopping service interrupts the run (None: not stopping)."""
    timeout = config.serve.run_timeout
    site = config.homepage
    logs = store.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    name = req.schedule.replace("/", "_")
    log_path = logs / f"{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}-{name}.log"
    cmd = child_command(config_path, store.data_dir, req)
    log.info("schedule %s: starting audit of %s", req.schedule, site)
    started = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_env(config),
            start_new_session=True,  # Ctrl-C on the service does not reach the audit
            preexec_fn=functools.partial(_die_with_parent, os.getpid()),
        )
        reason, forced = "", ""
        while True:
            try:
                code: int | None = proc.wait(timeout=0.25)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            deadline = stop_deadline()
            if now - started >= timeout:
                reason = (
                    f"timeout: the run exceeded serve.run_timeout ({timeout:g} s) and was stopped"
                )
                forced = "failed"
            elif deadline is not None and now >= deadline:
                reason = "interrupted: the service stopped before the run finished"
                forced = "interrupted"
            if forced:
                log.warning("schedule %s: %s (pid %s)", req.schedule, reason, proc.pid)
                kill_tree(proc)
                code = proc.returncode
                break
    row = store.run_by_key(req.run_key)
    if code == EXIT_BUSY and row is not None and row["pid"] != proc.pid:
        log.info("schedule %s: run %s is in progress elsewhere", req.schedule, row["id"])
        _remove(log_path)
        return RunResult(int(row["id"]), "busy", code)
    if row is None:
        # The child died before it recorded a run (bad config, crash on start …).
        run_id = store.create_run(
            site=site,
            config=config.model_dump(mode="json"),
            start_urls=list(config.site.urls),
            pid=proc.pid,
            run_key=req.run_key,
        )
        status = forced or "failed"
        store.finish_run(run_id, status)
        store.add_run_error(
            run_id,
            {
                "stage": "service",
                "error": reason or f"the audit process exited with code {code}: {_tail(log_path)}",
            },
        )
    elif row["status"] == "running" and row["pid"] == proc.pid:
        run_id = int(row["id"])
        status = forced or "failed"
        store.finish_run(run_id, status)
        store.add_run_error(
            run_id,
            {
                "stage": "service",
                "error": reason
                or f"interrupted: process {proc.pid} exited with code {code} "
                "before finishing the run",
            },
        )
    else:
        run_id, status = int(row["id"]), row["status"]
    _keep_log(store, log_path, run_id)
    elapsed = time.monotonic() - started
    row = store.run_row(run_id) or {}
    counts = severity_counts(store, run_id) if status == "succeeded" else {}
    log.info(
        "schedule %s: run %s %s in %.1f s (exit code %s): %s pages, %s links%s",
        req.schedule,
        run_id,
        status,
        elapsed,
        code,
        row.get("pages_crawled") or 0,
        row.get("links_checked") or 0,
        "; findings: " + ", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "",
    )
    return RunResult(run_id, status, code, reason)


def severity_counts(store: Store, run_id: int) -> dict[str, int]:
    q = (
        select(findings.c.severity, func.count())
        .where(findings.c.run_id == run_id)
        .group_by(findings.c.severity)
    )
    with store.engine.connect() as conn:
        return {sev: n for sev, n in conn.execute(q)}


def _keep_log(store: Store, log_path: Path, run_id: int) -> None:
    target = store.run_dir(run_id) / "audit.log"
    try:
        if target.exists():  # a redelivered run: keep the earlier attempt's output too
            with open(target, "ab") as dst, open(log_path, "rb") as src:
                dst.write(b"\n---- redelivered ----\n")
                shutil.copyfileobj(src, dst)
            log_path.unlink()
        else:
            shutil.move(str(log_path), str(target))
    except OSError as exc:
        log.warning("could not move %s: %s", log_path, exc)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def _tail(path: Path, lines: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return " | ".join(line.strip() for line in deque(fh, lines) if line.strip())[:800]
    except OSError:
        return ""


def queue_mail(store: Store, config: Config, run_id: int) -> None:
    """A succeeded run's mail, queued only (a worker has no SMTP password): into the outbox
    that ``govaudit serve`` sends from, or as .eml files without SMTP. Idempotent: each
    message's Message-ID comes from the run and the unit, and is queued once."""
    from reports import mail

    if mail.smtp_configured(config) and not config.mail.dry_run:
        plan = mail.queue_run(store, config, run_id)
        log.info("run %s: %d message(s) queued", run_id, len(plan.messages))
        return
    plan = mail.plan_run_mail(store, config, run_id)
    for problem in plan.problems:
        log.warning("run %s: mail: %s", run_id, problem)
    paths = mail.write_eml(plan, store.run_dir(run_id))
    log.info(
        "run %s: no SMTP configured (mail.host), %d message(s) written to %s",
        run_id,
        len(paths),
        store.run_dir(run_id) / "mail",
    )


class LocalExecutor:
    """``executor = "local"``: each run a child process of this service (the default)."""

    def __init__(
        self,
        config_path: Path,
        store: Store,
        stopping: threading.Event,
        stop_deadline: Callable[[], float | None],
    ) -> None:
        self.config_path = config_path
        self.store = store
        self.stopping = stopping
        self.stop_deadline = stop_deadline

    def execute(self, config: Config, req: RunRequest) -> RunResult:
        return run_in_child(self.config_path, config, self.store, req, self.stop_deadline)

    def close(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"executor": "local"}
