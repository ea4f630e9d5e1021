"""The service: scheduled audits (APScheduler 3), mail after each run, reports over HTTP.

``govaudit serve --config FILE`` keeps its jobs in the run database (SQLAlchemyJobStore in
``<data_dir>/govaudit.sqlite``), so a restart keeps each job's next run time and a run missed
while the service was down runs once if it is within ``serve.misfire_grace`` seconds.

The service decides *when*; an executor decides *where* (``executor``): ``local`` runs each
audit as ``govaudit audit`` in a child process (pipeline/executors.py: Twisted's reactor cannot
restart; a wall-clock limit, ``serve.run_timeout``), ``celery`` sends it to ``govaudit worker``
processes (pipeline/celery_app.py). Each firing carries a run key, so a run delivered twice
has one row. At most one run per site at a time; a config with ``[[sites]]`` has a schedule
per site (job ids ``audit:<site>/<schedule>``).

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

import logging
import os
import threading
import time
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

from core.config import Config, ConfigError, ScheduleEntry
from pipeline.availability import add_probe_jobs
from pipeline.executors import LocalExecutor, RunRequest, RunResult
from pipeline.processes import live_runs, process_alive, recover_interrupted_runs
from reports.store import Store

__all__ = ["RunResult", "Service", "parse_cron", "schedule_entries", "schedule_status"]

log = logging.getLogger("govaudit.scheduler")

JOBS_TABLE = "apscheduler_jobs"
JOB_PREFIX = "audit:"
DEFAULT_STOP_GRACE = 120.0
PID_FILE = "serve.pid"

#: The running service, for the module-level job functions (jobs are stored by reference).
_service: Service | None = None


# ---- job functions (referenced as "scheduler:run_job"; must stay module-level) -----------


def run_job(schedule: str, spec: dict[str, Any] | None = None, site: str | None = None) -> None:
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
    """Config's [[schedule]] entries by name, each with its trigger; ConfigError when invalid.
    With [[sites]], every site's schedules, named ``<site>/<schedule>``."""
    if config.sites:
        every: dict[str, tuple[ScheduleEntry, Any]] = {}
        for name, site_config in config.site_configs().items():
            for key, item in schedule_entries(site_config, timezone).items():
                every[f"{name}/{key}"] = item
        return every
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
        self.site_configs = config.site_configs()  # {None: config} without [[sites]]
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=self.store.engine, tablename=JOBS_TABLE),
                "volatile": MemoryJobStore(),
            },
            executors={"default": ThreadPoolExecutor(max_workers=max(2, self._job_count() + 1))},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": config.serve.misfire_grace,
            },
        )
        self.entries = schedule_entries(config, self.scheduler.timezone)
        self.entry_site = {
            key: (key.split("/", 1)[0] if config.sites else None) for key in self.entries
        }
        self.site_locks = {name: threading.Lock() for name in self.site_configs}
        self.stopping = threading.Event()
        self.stop_deadline: float | None = None
        self.web: Any = None
        self.pid_file = self.data_dir / PID_FILE
        self.executor: Any = self._executor()

    def _job_count(self) -> int:
        return sum(len(c.schedule) for c in self.site_configs.values())

    def _executor(self) -> Any:
        if self.config.executor == "celery":
            from pipeline.celery_app import CeleryExecutor

            return CeleryExecutor(self.config, self.store, self.stopping)
        return LocalExecutor(
            self.config_path, self.store, self.stopping, lambda: self.stop_deadline
        )

    @property
    def site(self) -> str:
        """The homepage of a single-site config."""
        return self.config.homepage

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
        for site_config in self.site_configs.values():  # homepage availability
            add_probe_jobs(self.scheduler, site_config, self.store)
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

        self.web, _thread = start_server(
            self.store, self.config, jobs=self.job_list, sites=self.site_configs
        )
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
            self.executor.close()
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
            kwargs: dict[str, Any] = {"schedule": key, "spec": entry.model_dump()}
            if self.entry_site.get(key):
                kwargs["site"] = self.entry_site[key]
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
                {
                    "name": key,
                    "cron": entry.cron,
                    "next_run": job.next_run_time if job else None,
                    "site": self.entry_site.get(key),
                }
            )
        return out

    # -- runs
    def run_schedule(self, key: str) -> RunResult:
        item = self.entries.get(key)
        if item is None:
            log.warning("job %s has no schedule entry any more: ignored", key)
            return RunResult(None, "skipped", reason="unknown schedule")
        entry = item[0]
        name = self.entry_site.get(key)
        config, lock = self.site_configs[name], self.site_locks[name]
        site = config.homepage
        if self.stopping.is_set():
            return RunResult(None, "skipped", reason="stopping")
        # One run per site: a schedule that fires while another run of the site is in progress
        # (another schedule, or a manual `govaudit audit`) waits for it, up to run_timeout.
        deadline = time.monotonic() + config.serve.run_timeout
        waiting = False
        while not lock.acquire(timeout=1.0):
            if not waiting:
                log.info("schedule %s: waiting, another run of %s is in progress", key, site)
                waiting = True
            if self.stopping.is_set() or time.monotonic() > deadline:
                log.warning("schedule %s: skipped, %s stayed busy", key, site)
                return RunResult(None, "skipped", reason="busy")
        try:
            while busy := live_runs(self.store, site):
                if not waiting:
                    run_id, pid = busy[0]
                    log.info(
                        "schedule %s: waiting, run %s of %s is still running (pid %s)",
                        key,
                        run_id,
                        site,
                        pid,
                    )
                    waiting = True
                if self.stopping.is_set() or time.monotonic() > deadline:
                    log.warning("schedule %s: skipped, %s stayed busy", key, site)
                    return RunResult(None, "skipped", reason="busy")
                self.stopping.wait(2.0)
            if self.stopping.is_set():
                return RunResult(None, "skipped", reason="stopping")
            result = self.execute(key, entry)
            if result.status == "succeeded" and result.run_id is not None:
                self.after_success(result.run_id, config)
            return result
        finally:
            lock.release()

    def execute(self, key: str, entry: ScheduleEntry) -> RunResult:
        """Run one audit on the configured executor and record how it ended."""
        site = self.entry_site.get(key)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        req = RunRequest(
            schedule=key,
            run_key=f"{key}@{stamp}",
            site=site,
            plugins=list(entry.plugins) if entry.plugins else None,
            max_pages=entry.max_pages,
        )
        return self.executor.execute(self.site_configs[site], req)

    def after_success(self, run_id: int, config: Config | None = None) -> None:
        """Mail the run: queued in the outbox (idempotent: a worker may have queued it
        already) and sent, or as .eml files when no SMTP is configured."""
        from pipeline.executors import queue_mail
        from reports import mail

        config = config or self.config
        try:
            queue_mail(self.store, config, run_id)
            if mail.smtp_configured(config) and not config.mail.dry_run:
                for d in mail.send_due(self.store, config, run_id=run_id):
                    (log.info if d.status == "sent" else log.warning)(
                        "run %s: mail %s", run_id, d.describe()
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

    for site_config in config.site_configs().values():
        site_config.homepage  # noqa: B018 - raises ConfigError naming site.urls when missing
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
