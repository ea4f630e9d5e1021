"""The availability monitor of ``govaudit serve``: probes each homepage on its own jittered
interval, stores every probe, and mails the administrators once when a homepage has been
down for ``availability.alert_after`` consecutive probes and once when it is back.

Knows nothing of audits or the report; the scheduler only hands it its APScheduler.
"""

from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.triggers.interval import IntervalTrigger

from core.availability import Outage, Probe, probe_fetcher, probe_homepage
from core.config import Config
from core.dns import Resolver
from core.netprobe import FamilyFetcher
from reports import availability as avail
from reports import mail
from reports.mail import alerts
from reports.store import Store

log = logging.getLogger("govaudit.availability")

EXECUTOR = "probes"
JOB_PREFIX = "probe:"
#: How far back the monitor looks for the start of a current outage (probes).
MAX_STREAK = 20_000


class ProbeMonitor:
    """Probes, records and alerts for a list of homepages (the service has one)."""

    def __init__(self, store: Store, config: Config, sites: list[str] | None = None) -> None:
        self.store = store
        self.config = config
        self.sites = list(sites if sites is not None else [config.homepage])
        self._locks = {site: threading.Lock() for site in self.sites}
        self._fetchers: dict[str, FamilyFetcher] = {}  # one per site: TLS contexts are costly
        avail.ensure_probes(store)
        mail.ensure_outbox(store)

    def probe(self, site: str) -> Probe:
        """One probe of ``site``: stored, then the alert state looked at."""
        opts = self.config.availability
        with self._locks.setdefault(site, threading.Lock()):
            fetcher = self._fetchers.get(site)
            if fetcher is None:
                verify = self.config.crawl.verify_tls
                fetcher = self._fetchers[site] = probe_fetcher(Resolver(), opts.timeout, verify)
            p = probe_homepage(
                site,
                self.config.dns,
                timeout=opts.timeout,
                verify_tls=self.config.crawl.verify_tls,
                fetcher=fetcher,
            )
            avail.record_probe(self.store, site, p)
            (log.debug if p.ok else log.warning)(
                "probe %s: %s in %.0f ms%s",
                site,
                "up" if p.ok else "DOWN",
                p.latency_ms or 0,
                "" if p.ok else f" ({p.kind.value} {p.code or ''} {p.detail})".rstrip(),
            )
            try:
                self.alert(site)
            except Exception as exc:  # mail trouble never stops the probes
                log.error("availability alert for %s: %s", site, exc)
            return p

    def alert(self, site: str) -> str | None:
        """Queue (and send) the down or back mail the probe log calls for; returns its kind."""
        n = self.config.availability.alert_after
        recent = avail.latest_probes(self.store, site, n + 1)  # enough for the usual case
        if not recent or (recent[0].ok and all(p.ok for p in recent[1:2])):
            return None
        if all(not p.ok for p in recent[1:]):  # an outage may be longer: read back to its start
            recent = avail.latest_probes(self.store, site, MAX_STREAK)
        last = recent[0]
        if last.ok:
            streak = _failures_before(recent[1:])
            if len(streak) < n:
                return None
            outage = Outage(streak[-1].at, last.at, len(streak), streak[0].at)
            kind = alerts.BACK
        else:
            streak = _failures_before(recent)
            if len(streak) < n:
                return None
            outage = Outage(streak[-1].at, None, len(streak), streak[0].at)
            kind = alerts.DOWN
        plan = alerts.alert_plan(self.config, site, kind, outage, last, datetime.now())
        for problem in plan.problems:
            log.warning("%s: %s", site, problem)
        if not plan.messages:
            return None
        if mail.smtp_configured(self.config) and not self.config.mail.dry_run:
            if mail.enqueue(self.store, plan):
                log.warning("availability: %s mail for %s queued", kind, site)
                for d in mail.send_due(self.store, self.config, run_id=alerts.ALERT_RUN_ID):
                    (log.info if d.status == "sent" else log.warning)("mail %s", d.describe())
        else:
            out = self.store.data_dir / "availability" / "mail"
            name = f"{outage.start:%Y%m%d-%H%M%S}-{kind}.eml"
            if not (out / name).exists():
                out.mkdir(parents=True, exist_ok=True)
                (out / name).write_bytes(plan.messages[0].message.as_bytes(policy=mail.POLICY))
                log.warning("availability: %s mail for %s written to %s", kind, site, out / name)
        return kind


def _failures_before(newest_first: list[Probe]) -> list[Probe]:
    """The unbroken run of failed probes at the head of a newest-first list."""
    out: list[Probe] = []
    for p in newest_first:
        if p.ok:
            break
        out.append(p)
    return out


def _probe_job(monitor: ProbeMonitor, site: str) -> None:
    try:
        monitor.probe(site)
    except Exception as exc:
        log.error("probe of %s failed: %s", site, exc)


def add_probe_jobs(scheduler: Any, config: Config, store: Store) -> ProbeMonitor | None:
    """Give the service's scheduler one probe job per homepage (in memory: the interval
    starts again with the service), on an executor of their own so a long audit or a mail
    pass never delays a probe."""
    opts = config.availability
    if not opts.enabled:
        return None
    monitor = ProbeMonitor(store, config)
    try:  # one probe executor for every site of a [[sites]] config
        scheduler.add_executor(ThreadPoolExecutor(max_workers=min(8, len(monitor.sites))), EXECUTOR)
    except ValueError:
        pass
    for site in monitor.sites:
        first = datetime.now().astimezone() + timedelta(
            seconds=random.uniform(0, opts.jitter_seconds)
        )
        scheduler.add_job(
            _probe_job,
            IntervalTrigger(seconds=opts.interval_seconds, jitter=opts.jitter_seconds or None),
            args=[monitor, site],
            id=JOB_PREFIX + site,
            name=f"probe {site}",
            jobstore="volatile",
            executor=EXECUTOR,
            next_run_time=first,
            replace_existing=True,
            misfire_grace_time=max(1, int(opts.interval_seconds)),
            coalesce=True,
            max_instances=1,
        )
    log.info(
        "availability: probing %s every %g s (±%g s), alert after %d failures",
        ", ".join(monitor.sites),
        opts.interval_seconds,
        opts.jitter_seconds,
        opts.alert_after,
    )
    return monitor
