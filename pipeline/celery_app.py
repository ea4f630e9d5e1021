"""``executor = "celery"``: scheduled runs go to ``govaudit worker`` processes over Redis.

The scheduler only sends (``CeleryExecutor``); workers only execute (``start_worker``): each
run is still a child process (pipeline/executors.py). Reliability is Celery's own:

- ``task_acks_late``: a run's message is acknowledged when the run has ended, not when a
  worker takes it, so a worker killed mid-run (SIGKILL, power loss) leaves it unacknowledged;
- Redis ``visibility_timeout`` (``[workers].visibility_timeout``, default
  ``serve.run_timeout`` + 600 s, always longer than a run may take): an unacknowledged message
  goes back to the queue after it, and another worker runs it (``unacked_restore_interval``
  sets how often workers look);
- ``task_reject_on_worker_lost``: with a prefork pool, a pool process that dies requeues its
  message at once instead of failing it;
- ``worker_prefetch_multiplier = 1``: a worker holds only the runs it is executing;
- run keys: the scheduler gives each firing a key; a redelivered run finds its row by it
  (no second row) and Message-IDs come from the run, so mail is queued once;
- ``serve.run_timeout``: the worker kills the child's process tree and marks the run failed.
Knows nothing of schedules; the scheduler (scheduler.py) decides when.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from celery import Celery

from core.config import Config, ConfigError, load_config, visibility_timeout
from pipeline.executors import RunRequest, RunResult, queue_mail, run_in_child
from reports.store import Store

log = logging.getLogger("govaudit.scheduler")

TASK = "govaudit.run"
TERMINAL = ("succeeded", "failed", "interrupted")

#: The worker's configuration (set by start_worker; the task reads it).
_worker: dict[str, Any] = {}


def make_app(config: Config) -> Celery:
    """The Celery app of a configuration; the scheduler and the workers build the same one."""
    vt = visibility_timeout(config)
    app = Celery("govaudit", broker=config.workers.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_default_queue=config.workers.queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": vt,
            "unacked_restore_interval": max(1, min(10, int(vt / 10))),
            "unacked_restore_throttle": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_disable_rate_limits=True,
    )
    app.task(name=TASK, bind=True)(run_task)
    return app


def run_task(task: Any, **request: Any) -> dict[str, Any]:
    """The Celery task: one scheduled run in a child process of this worker."""
    req = RunRequest(**request)
    config_path: Path = _worker["config_path"]
    config = load_config(config_path).for_site(req.site)
    store: Store = _worker["store"]
    result = run_in_child(config_path, config, store, req)
    if result.status == "succeeded" and result.run_id is not None:
        try:  # idempotent: a redelivered run queues nothing new
            queue_mail(store, config, result.run_id)
        except Exception as exc:
            log.error("run %s: mail could not be queued: %s", result.run_id, exc)
    return asdict(result)


def start_worker(config_path: Path, config: Config, concurrency: int | None = None) -> int:
    """``govaudit worker``: take runs from the queue until SIGTERM (warm: running runs end)."""
    if config.executor != "celery":
        log.warning(
            "executor is %r in %s: 'govaudit serve' sends no runs", config.executor, config_path
        )
    n = concurrency or config.workers.concurrency or os.cpu_count() or 1
    _worker["config_path"] = config_path.resolve()
    _worker["store"] = Store.for_config(config)
    app = make_app(config)
    name = f"govaudit-{os.getpid()}@{socket.gethostname()}"
    print(f"govaudit worker {name}: {n} run(s) at once from {config.workers.queue}", flush=True)
    app.worker_main(
        [
            "worker",
            f"--hostname={name}",
            f"--concurrency={n}",
            "--pool=threads",  # each run is a child process already; threads only wait on it
            f"--queues={config.workers.queue}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return 0


class CeleryExecutor:
    """The scheduler's side: send a run, then follow its row (by run key) until it ends."""

    def __init__(self, config: Config, store: Store, stopping: threading.Event) -> None:
        self.config = config
        self.store = store
        self.stopping = stopping
        self.app = make_app(config)

    def execute(self, config: Config, req: RunRequest) -> RunResult:
        self.app.send_task(TASK, kwargs=asdict(req), queue=self.config.workers.queue)
        log.info("schedule %s: run %s sent to the workers", req.schedule, req.run_key)
        # A run may wait in the queue, run for run_timeout, and be redelivered once after the
        # visibility timeout: follow it that long at most.
        limit = visibility_timeout(config) + 2 * config.serve.run_timeout + 120
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            row = self.store.run_by_key(req.run_key)
            if row is not None and row["status"] in TERMINAL:
                log.info("schedule %s: run %s %s", req.schedule, row["id"], row["status"])
                return RunResult(int(row["id"]), row["status"])
            if self.stopping.wait(1.0):
                return RunResult(row["id"] if row else None, "skipped", reason="stopping")
        return RunResult(None, "skipped", reason=f"no result within {limit:g} s")

    def close(self) -> None:
        self.app.close()

    def describe(self) -> dict[str, Any]:
        return {"executor": "celery", "broker": _redacted(self.config.workers.broker_url)}


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def check_broker(config: Config) -> None:
    """ConfigError naming the fix when the broker cannot be reached."""
    app = make_app(config)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=5)
    except Exception as exc:
        raise ConfigError(
            f"workers.broker_url {_redacted(config.workers.broker_url)}: cannot connect ({exc})"
        ) from None
    finally:
        app.close()
