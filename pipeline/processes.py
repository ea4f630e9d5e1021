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

from reports.store import Store, runs

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


def recover_interrupted_runs(store: Store) -> list[int]:
    """Runs left ``running`` by a process that no longer exists → failed, with the reason."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.started_at).where(runs.c.status == "running")
        ).all()
    recovered = []
    for run_id, pid, started_at in rows:
        if process_alive(pid, started_at):
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
    """(run id, pid) of this site's runs whose process is still alive."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(runs.c.id, runs.c.pid, runs.c.started_at).where(
                runs.c.status == "running", runs.c.site == site
            )
        ).all()
    return [(r, p) for r, p, s in rows if process_alive(p, s)]


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
