"""The service: scheduled audits (APScheduler 3), mail after each run, reports over HTTP.

``govaudit serve --config FILE`` keeps its jobs in the run database (SQLAlchemyJobStore in
``<data_dir>/govaudit.sqlite``), so a restart keeps each job's next run time and a run missed
while the service was down runs once if it is within ``serve.misfire_grace`` seconds.

Each run is ``govaudit audit`` in a child process (Twisted's reactor cannot restart), in its
own session, with a wall-clock limit (``serve.run_timeout``). The child records its run in the
store; the service reads the outcome, kills the child's whole process tree on timeout and
marks the run failed with the reason. At most one run per site at a time.

Crash safety:
- the child gets SIGKILL when the service dies (PR_SET_PDEATHSIG), and the service writes a
  pid file, so after ``kill -9`` the next start finds runs still ``running`` whose process is
  gone and marks them failed ("interrupted: process N no longer exists"); the previous good
  run's files are untouched (a run only writes into its own directory);
- SIGTERM/SIGINT stop cleanly: no new runs start, a running audit may finish within the grace
  period (``GOVAUDIT_STOP_GRACE`` seconds, default 120), after which it is killed and marked
  ``interrupted``; the service exits 0.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from core.config import Config, ConfigError, ScheduleEntry
from pipeline.availability import add_probe_jobs
from pipeline.processes import (
    _die_with_parent,
    kill_tree,
    live_runs,
    process_alive,
    recover_interrupted_runs,
)
from reports.store import Store, findings, runs

log = logging.getLogger("govaudit.scheduler")

JOBS_TABLE = "apscheduler_jobs"
JOB_PREFIX = "audit:"
DEFAULT_STOP_GRACE = 120.0
PID_FILE = "serve.pid"

#: The running service, for the module-level job functions (jobs are stored by reference).
_service: Service | None = None


# ---- job functions (referenced as "scheduler:run_job"; must stay module-level) -----------


def run_job(schedule: str, spec: dict[str, Any] | None = None) -> None:
    """APScheduler job: one scheduled audit. ``spec`` is the schedule entry when it was
    registered (kept so a changed entry can be detected on restart)."""
    service = _service
    if service is None:
        log.error("job %s fired but no service is running", schedule)
        return
    service.run_schedule(schedule)


def flush_outbox() -> None:
    """APScheduler job: send the outbox rows that are due (retries with backoff)."""
    service = _service
    if service is not None:
        service.flush_outbox()


# ---- schedules ----------------------------------------------------------------------------

_DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _day(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _DAYS:
        return _DAYS.index(token[:3])
    raise ValueError(f"{token!r} is not a day of the week (0-7 or sun…sat)")


def crontab_day_of_week(field: str) -> str:
    """Crontab's day-of-week (0 or 7 = Sunday) → APScheduler's names.

    APScheduler 3 numbers days from Monday = 0, so '0 2 * * 1' passed through unchanged
    would run on Tuesdays; names are unambiguous."""
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        rng, slash, step_text = part.partition("/")
        step = int(step_text) if slash else 1
        if step < 1:
            raise ValueError(f"step in {part!r} must be ≥ 1")
        if rng == "*":
            lo, hi = 0, 6
        elif "-" in rng:
            a, b = rng.split("-", 1)
            lo, hi = _day(a), _day(b)
            if hi < lo:
                raise ValueError(f"range {rng!r} goes backwards")
        else:
            lo = _day(rng)
            hi = 6 if slash else lo
        days.update(d % 7 for d in range(lo, hi + 1, step))
    return ",".join(_DAYS[d] for d in sorted(days))


def parse_cron(expr: str, timezone: Any = None) -> CronTrigger:
    """5 fields (minute hour day month day-of-week, as crontab) or 6 (seconds first)."""
    fields = expr.split()
    if len(fields) == 5:
        second, (minute, hour, day, month, dow) = "0", fields
    elif len(fields) == 6:
        second, minute, hour, day, month, dow = fields
    else:
        raise ValueError(
            f"{expr!r} has {len(fields)} fields; write 5 (min hour day month weekday, "
            "e.g. '0 2 * * 1') or 6 with seconds first"
        )
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_day_of_week(dow),
        timezone=timezone,
    )


def schedule_key(entry: ScheduleEntry, index: int) -> str:
    return entry.name.strip() or f"schedule-{index + 1}"


def schedule_entries(config: Config, timezone: Any = None) -> dict[str, tuple[ScheduleEntry, Any]]:
    """Config's [[schedule]] entries by name, each with its trigger; ConfigError when invalid."""
    out: dict[str, tuple[ScheduleEntry, Any]] = {}
    for i, entry in enumerate(config.schedule):
        key = schedule_key(entry, i)
        if key in out:
            raise ConfigError(f"schedule[{i}].name: {key!r} is used twice; names must differ")
        try:
            trigger = parse_cron(entry.cron, timezone)
        except ValueError as exc:
            raise ConfigError(f"schedule[{i}].cron ({key}): {exc}") from None
        out[key] = (entry, trigger)
    return out


@dataclass
class RunResult:
    run_id: int | None
    status: str  # succeeded | failed | interrupted | skipped
    exit_code: int | None = None
    reason: str = ""


def stop_grace() -> float:
    value = os.environ.get("GOVAUDIT_STOP_GRACE")
    try:
        return float(value) if value else DEFAULT_STOP_GRACE
    except ValueError:
        raise ConfigError(f"GOVAUDIT_STOP_GRACE={value!r} is not a number of seconds") from None


# ---- the service --------------------------------------------------------------------------


class Service:
    """Scheduler + child runs + mail + web. One per data directory."""

    def __init__(self, config_path: Path, config: Config) -> None:
        self.config_path = config_path.resolve()
        self.config = config
        self.data_dir = Path(config.data_dir).resolve()
        self.store = Store.for_config(config)
        self.site = config.homepage
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.store.engine, tablename=JOBS_TABLE),
                "volatile": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(max_workers=max(2, len(config.schedule) + 1))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": config.serve.misfire_grace,
            },
        )
        self.entries = schedule_entries(config, self.scheduler.timezone)
        self.site_lock = threading.Lock()
        self.stopping = threading.Event()
        self.stop_deadline: float | None = None
        self.web: Any = None
        self.pid_file = self.data_dir / PID_FILE

    # -- lifecycle
    def start(self) -> None:
        global _service
        from reports import mail

        self._take_pid_file()
        recover_interrupted_runs(self.store)
        mail.ensure_outbox(self.store)
        mail.release_stale_claims(self.store)
        _service = self
        self.scheduler.start(paused=True)
        self._sync_jobs()
        add_probe_jobs(self.scheduler, self.config, self.store)  # homepage availability
        if mail.smtp_configured(self.config) and not self.config.mail.dry_run:
            every = max(1.0, min(60.0, self.config.mail.backoff_seconds / 2))
            self.scheduler.add_job(
                flush_outbox,
                IntervalTrigger(seconds=every),
                id="outbox",
                name="outbox",
                jobstore="volatile",
                replace_existing=True,
            )
        from reports.web import start_server

        self.web, _thread = start_server(self.store, self.config, jobs=self.job_list)
        self.scheduler.resume()

    def stop(self, grace: float) -> None:
        """No new runs; let a running one finish for ``grace`` seconds, then interrupt it."""
        global _service
        self.stop_deadline = time.monotonic() + grace
        self.stopping.set()
        try:
            if self.scheduler.running:
                self.scheduler.pause()
                self.scheduler.shutdown(wait=True)
        finally:
            if self.web is not None:
                self.web.shutdown()
                self.web.server_close()
            _service = None
            self._drop_pid_file()

    def _take_pid_file(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            other = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            other = 0
        if other and other != os.getpid() and process_alive(other):
            try:
                cmd = " ".join(psutil.Process(other).cmdline())
            except psutil.Error:
                cmd = ""
            if "serve" in cmd:
                raise ConfigError(
                    f"another 'govaudit serve' (pid {other}) uses {self.data_dir}; stop it first"
                )
        self.pid_file.write_text(f"{os.getpid()}\n")

    def _drop_pid_file(self) -> None:
        try:
            if self.pid_file.read_text().strip() == str(os.getpid()):
                self.pid_file.unlink()
        except OSError:
            pass

    def _sync_jobs(self) -> None:
        """Make the stored jobs match the config, keeping unchanged jobs' next run times."""
        stored = {
            j.id: j
            for j in self.scheduler.get_jobs(jobstore="default")
            if j.id.startswith(JOB_PREFIX)
        }
        for key, (entry, trigger) in self.entries.items():
            job_id = JOB_PREFIX + key
            kwargs = {"schedule": key, "spec": entry.model_dump()}
            job = stored.pop(job_id, None)
            if job is not None and job.kwargs == kwargs:
                log.info("schedule %s: kept, next run %s", key, job.next_run_time)
                continue
            self.scheduler.add_job(
                "scheduler:run_job",
                trigger,
                id=job_id,
                name=key,
                kwargs=kwargs,
                jobstore="default",
                replace_existing=True,
            )
            log.info("schedule %s (%s): registered", key, entry.cron)
        for job_id in stored:
            self.scheduler.remove_job(job_id, jobstore="default")
            log.info("job %s is no longer in the config: removed", job_id)

    def job_list(self) -> list[dict[str, Any]]:
        out = []
        for key, (entry, _trigger) in self.entries.items():
            job = self.scheduler.get_job(JOB_PREFIX + key)
            out.append(
                {"name": key, "cron": entry.cron, "next_run": job.next_run_time if job else None}
            )
        return out

    # -- runs
    def run_schedule(self, key: str) -> RunResult:
        item = self.entries.get(key)
        if item is None:
            log.warning("job %s has no schedule entry any more: ignored", key)
            return RunResult(None, "skipped", reason="unknown schedule")
        entry = item[0]
        if self.stopping.is_set():
            return RunResult(None, "skipped", reason="stopping")
        # One run per site: a schedule that fires while another run of the site is in progress
        # (another schedule, or a manual `govaudit audit`) waits for it, up to run_timeout.
        deadline = time.monotonic() + self.config.serve.run_timeout
        waiting = False
        while not self.site_lock.acquire(timeout=1.0):
            if not waiting:
                log.info("schedule %s: waiting, another run of %s is in progress", key, self.site)
                waiting = True
            if self.stopping.is_set() or time.monotonic() > deadline:
                log.warning("schedule %s: skipped, %s stayed busy", key, self.site)
                return RunResult(None, "skipped", reason="busy")
        try:
            while busy := live_runs(self.store, self.site):
                if not waiting:
                    run_id, pid = busy[0]
                    log.info(
                        "schedule %s: waiting, run %s of %s is still running (pid %s)",
                        key,
                        run_id,
                        self.site,
                        pid,
                    )
                    waiting = True
                if self.stopping.is_set() or time.monotonic() > deadline:
                    log.warning("schedule %s: skipped, %s stayed busy", key, self.site)
                    return RunResult(None, "skipped", reason="busy")
                self.stopping.wait(2.0)
            if self.stopping.is_set():
                return RunResult(None, "skipped", reason="stopping")
            result = self.execute(key, entry)
            if result.status == "succeeded" and result.run_id is not None:
                self.after_success(result.run_id)
            return result
        finally:
            self.site_lock.release()

    def child_command(self, entry: ScheduleEntry) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "govaudit.cli",
            "audit",
            "--config",
            str(self.config_path),
            "--data-dir",
            str(self.data_dir),
        ]
        if entry.plugins:
            cmd += ["--plugins", ",".join(entry.plugins)]
        if entry.max_pages:
            cmd += ["--max-pages", str(entry.max_pages)]
        return cmd

    def child_env(self) -> dict[str, str]:
        """The service's environment without its secrets (an audit needs neither)."""
        env = dict(os.environ)
        for name in (self.config.mail.password_env, self.config.serve.token_env):
            if name:
                env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _max_run_id(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(select(func.max(runs.c.id))).scalar() or 0)

    def execute(self, key: str, entry: ScheduleEntry) -> RunResult:
        """Run one audit in a child process and record how it ended."""
        timeout = self.config.serve.run_timeout
        before = self._max_run_id()
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        log_path = logs / f"{datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}-{key}.log"
        cmd = self.child_command(entry)
        log.info("schedule %s: starting audit of %s", key, self.site)
        started = time.monotonic()
        with open(log_path, "wb") as out:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.child_env(),
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
                if now - started >= timeout:
                    reason = (
                        f"timeout: the run exceeded serve.run_timeout ({timeout:g} s) "
                        "and was stopped"
                    )
                    forced = "failed"
                elif (
                    self.stopping.is_set()
                    and self.stop_deadline is not None
                    and now >= self.stop_deadline
                ):
                    reason = "interrupted: the service stopped before the run finished"
                    forced = "interrupted"
                if forced:
                    log.warning("schedule %s: %s (pid %s)", key, reason, proc.pid)
                    kill_tree(proc)
                    code = proc.returncode
                    break
        run_id = self._child_run(before, proc.pid)
        row = self.store.run_row(run_id) if run_id else None
        if row is None:
            # The child died before it recorded a run (bad config, crash on start …).
            tail = _tail(log_path)
            run_id = self.store.create_run(
                site=self.site,
                config=self.config.model_dump(mode="json"),
                start_urls=list(self.config.site.urls),
                pid=proc.pid,
            )
            status = forced or "failed"
            self.store.finish_run(run_id, status)
            self.store.add_run_error(
                run_id,
                {
                    "stage": "service",
                    "error": reason or f"the audit process exited with code {code}: {tail}",
                },
            )
        elif row["status"] == "running":
            status = forced or "failed"
            self.store.finish_run(run_id, status)
            self.store.add_run_error(
                run_id,
                {
                    "stage": "service",
                    "error": reason
                    or f"interrupted: process {proc.pid} exited with code {code} "
                    "before finishing the run",
                },
            )
        else:
            status = row["status"]
        self._keep_log(log_path, run_id)
        elapsed = time.monotonic() - started
        row = self.store.run_row(run_id) or {}
        counts = self._severity_counts(run_id) if status == "succeeded" else {}
        log.info(
            "schedule %s: run %s %s in %.1f s (exit code %s): %s pages, %s links%s",
            key,
            run_id,
            status,
            elapsed,
            code,
            row.get("pages_crawled") or 0,
            row.get("links_checked") or 0,
            "; findings: " + ", ".join(f"{k} {v}" for k, v in counts.items()) if counts else "",
        )
        return RunResult(run_id, status, code, reason)

    def _severity_counts(self, run_id: int) -> dict[str, int]:
        q = (
            select(findings.c.severity, func.count())
            .where(findings.c.run_id == run_id)
            .group_by(findings.c.severity)
        )
        with self.store.engine.connect() as conn:
            return {sev: n for sev, n in conn.execute(q)}

    def _child_run(self, before: int, pid: int) -> int | None:
        with self.store.engine.connect() as conn:
            return conn.execute(
                select(runs.c.id)
                .where(runs.c.id > before, runs.c.pid == pid)
                .order_by(runs.c.id)
                .limit(1)
            ).scalar()

    def _keep_log(self, log_path: Path, run_id: int) -> None:
        try:
            shutil.move(str(log_path), str(self.store.run_dir(run_id) / "audit.log"))
        except OSError as exc:
            log.warning("could not move %s: %s", log_path, exc)

    def after_success(self, run_id: int) -> None:
        """Mail the run: through the outbox, or as .eml files when no SMTP is configured."""
        from reports import mail

        try:
            if mail.smtp_configured(self.config) and not self.config.mail.dry_run:
                plan = mail.queue_run(self.store, self.config, run_id)
                log.info("run %s: %d message(s) queued", run_id, len(plan.messages))
                for d in mail.send_due(self.store, self.config, run_id=run_id):
                    (log.info if d.status == "sent" else log.warning)(
                        "run %s: mail %s", run_id, d.describe()
                    )
            else:
                plan = mail.plan_run_mail(self.store, self.config, run_id)
                for problem in plan.problems:
                    log.warning("run %s: mail: %s", run_id, problem)
                paths = mail.write_eml(plan, self.store.run_dir(run_id))
                log.info(
                    "run %s: no SMTP configured (mail.host), %d message(s) written to %s",
                    run_id,
                    len(paths),
                    self.store.run_dir(run_id) / "mail",
                )
        except Exception as exc:
            log.error("run %s: mail failed: %s (queued messages stay in the outbox)", run_id, exc)

    def flush_outbox(self) -> None:
        from reports import mail

        try:
            for d in mail.send_due(self.store, self.config):
                (log.info if d.status == "sent" else log.warning)("mail %s", d.describe())
        except Exception as exc:
            log.error("outbox: %s", exc)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return " | ".join(line.strip() for line in deque(fh, lines) if line.strip())[:800]
    except OSError:
        return ""


def stored_jobs(store: Store) -> dict[str, Any]:
    """Jobs in the database, read without starting a scheduler."""
    jobstore = SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)
    jobstore.start(None, "default")
    return {job.id: job for job in jobstore.get_all_jobs()}


def preflight(config: Config) -> None:
    """Refuse to start, with a ConfigError naming the fix, when the service could not work:
    no start URL, no token off loopback, an SMTP password variable that is unset."""
    from reports import mail
    from reports.web import token_for

    config.homepage  # noqa: B018 - raises ConfigError naming site.urls when missing
    token_for(config)  # refuse to start without a token when not on loopback
    if mail.smtp_configured(config) and not config.mail.dry_run:
        try:
            mail.smtp_password(config)  # refuse to start when the password variable is unset
        except mail.MailError as exc:
            raise ConfigError(str(exc)) from None


@dataclass
class ScheduleRow:
    key: str
    cron: str
    next_run: Any  # datetime, timestamp or None (paused)
    registered: bool  # the service has this entry, as configured, in its job store
    scope: str


def schedule_status(config: Config) -> tuple[int, bool, list[ScheduleRow], list[str]]:
    """(service pid, running?, each configured schedule, stored jobs no longer configured),
    read from the database without starting a scheduler."""
    store = Store.for_config(config)
    entries = schedule_entries(config)
    jobs = stored_jobs(store)
    pid = 0
    try:
        pid = int((store.data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        pass
    now = datetime.now(UTC)
    rows = []
    for key, (entry, trigger) in entries.items():
        job = jobs.pop(JOB_PREFIX + key, None)
        scope = ",".join(entry.plugins) if entry.plugins else "all plugins"
        if entry.max_pages:
            scope += f", max {entry.max_pages} pages"
        if job is not None and job.kwargs.get("spec") == entry.model_dump():
            rows.append(ScheduleRow(key, entry.cron, job.next_run_time, True, scope))
        else:
            nxt = trigger.get_next_fire_time(None, now)
            rows.append(ScheduleRow(key, entry.cron, nxt, False, scope))
    return pid, process_alive(pid), rows, list(jobs)
