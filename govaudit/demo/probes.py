"""A seeded homepage probe history for the demo (D01): seven days of probes every 10 minutes,
with a 9-hour outage three days before the demo's date, so the availability audit has a
week to judge (54 failures in ~1,008 probes: 5.4%, above the 5% veto line).

Real probes come from ``govaudit serve`` (pipeline/availability.py); the demo has no week
to wait, so ``govaudit demo`` writes this history into its data directory through the probe
log's store functions (reports/availability.py) before it audits. Seeding is idempotent:
probes lie on a fixed 10-minute grid and only missing grid points are written, so a later
run the same day adds the probes since the last one (all up) and the outage stays in the
window: revision 2 keeps availability.homepage_down open (the past week does not change).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from core.availability import Probe
from core.snapshot import StatusKind
from reports.availability import probes_between, record_probe
from reports.store import Store

STEP = timedelta(minutes=10)
DAYS = 7
#: The planted outage: anchor − 3 days, 01:00 to 10:00 (54 probes on the 10-minute grid).
OUTAGE_DAY, OUTAGE_FROM, OUTAGE_HOURS = 3, time(1, 0), 9
#: Single failed probes on other days (a slow answer, a reset connection).
BLIPS = {(5, time(14, 20)): StatusKind.TIMEOUT, (1, time(8, 30)): StatusKind.CONNECTION_RESET}
DETAIL = "演示数据（模拟探测）"


def outage(anchor: date) -> tuple[datetime, datetime]:
    """Start and end (first probe up again) of the planted outage."""
    start = datetime.combine(anchor - timedelta(days=OUTAGE_DAY), OUTAGE_FROM)
    return start, start + timedelta(hours=OUTAGE_HOURS)


def demo_probe(anchor: date, at: datetime) -> Probe:
    """The seeded outcome of the probe at ``at`` (a grid point)."""
    start, end = outage(anchor)
    if start <= at < end:
        return Probe(at, False, StatusKind.CONNECTION_REFUSED, None, 2.0, DETAIL + "：服务器停机")
    blip = BLIPS.get(((anchor - at.date()).days, at.time()))
    if blip is StatusKind.TIMEOUT:
        return Probe(at, False, blip, None, 15000.0, DETAIL + "：15秒内无响应")
    if blip is not None:
        return Probe(at, False, blip, None, 40.0, DETAIL + "：连接被重置")
    minutes = int((at - datetime.combine(anchor, time())) / STEP)
    latency = 60.0 + (minutes * 37) % 180  # steady, deterministic 60–239 ms
    return Probe(at, True, StatusKind.OK, 200, latency, DETAIL)


def seed_probes(store: Store, site: str, anchor: date, now: datetime) -> int:
    """Write the demo's probes of ``site`` for the week before ``now`` (the audit's clock:
    the anchor date at the current time of day) that are not there yet; returns how many."""
    first = datetime.combine(anchor, time()) - timedelta(days=DAYS + 1)
    start = now - timedelta(days=DAYS) - STEP
    have = {p.at for p in probes_between(store, site, start, now)}
    at = first + ((start - first) // STEP + 1) * STEP
    written = 0
    while at <= now:
        if at not in have:
            record_probe(store, site, demo_probe(anchor, at))
            written += 1
        at += STEP
    return written
