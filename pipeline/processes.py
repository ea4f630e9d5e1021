"""A run's process: is it alive, recover runs whose process died, start and kill child trees.

Used by the service (scheduler.py) and by the CLI's run listing; knows nothing of
schedules or of the command line.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psutil
from sqlalchemy import select

from reports.store import HOST, Store, runs

log = logging.getLogger("govaudit.scheduler")


def _utc_ts(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp() if value.tzinfo is None else value.timestamp()


def process_alive(pid: int | None, started_at: datetime | None = None) -> bool:
    """Is ``pid`` running — and, with ``started_at``, the same process (not a reused pid)?"""
    if not pid:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if started_at is not None and proc.create_time() > _utc_ts(started_at) + 2:
            return False  # the pid was reused by a process started after the run
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError):
        return False


def local_run(host: str | None) -> bool:
    """Was the run's process on this machine? (Rows from before hosts were recorded: yes.)"""
    return host is None or host == HOST


def run_alive(row: dict, run_timeout: float) -> bool:
    """Is a ``running`` row's process still at work? On this machine: its pid lives. On
    another: it started less than ``run_timeout`` ago (past that its own supervisor killed it,
    and a worker that died cannot say so; Celery redelivers only after a longer
    visibility timeout)."""
    if local_run(row.get("host")):
        return process_alive(row.get("pid"), row.get("started_at"))
    started = row.get("started_at")
    if started is None:
        return False
    age = datetime.now(UTC).timestamp() - _utc_ts(started)
    return age < run_timeout


def recover_interrupted_runs(store: Store) -> list[int]:
    """Runs left ``running`` by a process of this machine that no longer exists → failed.

    Runs of other machines (workers sharing a PostgreSQL database) are theirs to judge."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.started_at, runs.c.host).where(
                runs.c.status == "running"
            )
        ).all()
    recovered = []
    for run_id, pid, started_at, host in rows:
        if not local_run(host) or process_alive(pid, started_at):
            continue
        store.finish_run(run_id, "failed")
        store.add_run_error(
            run_id,
            {"stage": "service", "error": f"interrupted: process {pid} no longer exists"},
        )
        remove_temporary_files(store.run_dir(run_id))
        log.warning(
            "run %s was interrupted (process %s no longer exists): marked failed", run_id, pid
        )
        recovered.append(run_id)
    return recovered


def live_runs(store: Store, site: str) -> list[tuple[int, int]]:
    """(run id, pid) of this site's runs on this machine whose process is still alive."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.started_at, runs.c.host).where(
                runs.c.status == "running", runs.c.site == site
            )
        ).all()
    return [(r, p) for r, p, s, h in rows if local_run(h) and process_alive(p, s)]


try:  # loaded in the parent: the forked child must not dlopen (other threads may hold locks)
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None


def _die_with_parent(parent: int) -> None:  # pragma: no cover - runs in the forked child
    """In the child before exec: SIGKILL me when the service dies (Linux PR_SET_PDEATHSIG).
    If the service already died between fork and here, exit at once."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the child and everything it started (Chromium, Playwright's driver …)."""
    try:
        victims = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        victims = []
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for p in victims:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.kill()
    proc.wait()


def remove_temporary_files(run_dir: Path) -> list[Path]:
    """Half-written output files (``.NAME.tmpPID``) a dead run left in its directory."""
    removed = []
    if run_dir.is_dir():
        for f in run_dir.rglob(".*.tmp*"):
            if f.is_file():
                f.unlink(missing_ok=True)
                removed.append(f)
    return removed
