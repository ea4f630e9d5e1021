"""Homepage availability as the inspection indicators measure it: one probe is one GET with a
time limit (15 s), with a typed outcome and its latency; a probe log gives a ratio of
failures and the outages. Knows nothing of storage, scheduling, mail or audits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from core.config import DnsConfig
from core.dns import Resolver
from core.netprobe import FamilyFetcher
from core.snapshot import LinkStatus, StatusKind


@dataclass(frozen=True)
class Probe:
    """One probe of a homepage: when, how it ended and how long it took."""

    at: datetime  # local time, naive (as the audits' clock)
    ok: bool
    kind: StatusKind
    code: int | None = None
    latency_ms: float | None = None
    detail: str = ""

    def describe(self) -> str:
        """Chinese one-line outcome, e.g. '访问超时' or 'HTTP错误 503'."""
        return LinkStatus(self.kind, self.code).describe()


def probe_homepage(
    url: str,
    dns: DnsConfig | None = None,
    timeout: float = 15.0,
    verify_tls: bool = True,
    now: datetime | None = None,
    fetcher: FamilyFetcher | None = None,
) -> Probe:
    """One GET of ``url`` (redirects followed) that must answer below 400 within ``timeout``
    seconds. Never raises: every failure is a typed outcome (timeout, DNS, TLS, refused …).
    A ``fetcher`` from :func:`probe_fetcher` may be reused from probe to probe."""
    at = now or datetime.now()
    start = time.perf_counter()
    try:
        resolver = Resolver(dns, timeout=min(timeout, 10.0))  # fresh: no cached answers
        host = urlsplit(url).hostname or ""
        family = 4 if resolver.lookup(host, 4).addresses else 6
        if fetcher is None:
            fetcher = probe_fetcher(resolver, timeout, verify_tls)
        else:
            fetcher.forget(resolver)
        result = fetcher.fetch(url, family)
        status = result.status
    except Exception as exc:  # a probe never takes the service down
        status = LinkStatus(StatusKind.ERROR, detail=f"{type(exc).__name__}: {exc}")
    elapsed = round((time.perf_counter() - start) * 1000, 1)
    if status.is_ok and elapsed > timeout * 1000:
        status = LinkStatus(StatusKind.TIMEOUT, detail=f"answered after {elapsed:.0f} ms")
    ok = status.kind is StatusKind.OK and (status.code or 0) < 400
    return Probe(at, ok, status.kind, status.code, elapsed, status.detail[:300])


def probe_fetcher(resolver: Resolver, timeout: float, verify_tls: bool = True) -> FamilyFetcher:
    return FamilyFetcher(
        resolver, timeout=timeout, verify_tls=verify_tls, max_body=65_536, max_redirects=5
    )


@dataclass
class Outage:
    """Consecutive failed probes: from the first failure to the first success after it."""

    start: datetime
    end: datetime | None  # None: still down at the last probe
    probes: int
    last_failure: datetime

    @property
    def minutes(self) -> float:
        return round(((self.end or self.last_failure) - self.start).total_seconds() / 60, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(timespec="seconds"),
            "end": self.end.isoformat(timespec="seconds") if self.end else None,
            "probes": self.probes,
            "minutes": self.minutes,
        }


def outages(probes: list[Probe]) -> list[Outage]:
    """The outages in a probe log (probes in time order)."""
    out: list[Outage] = []
    current: Outage | None = None
    for p in probes:
        if not p.ok:
            if current is None:
                current = Outage(p.at, None, 0, p.at)
                out.append(current)
            current.probes += 1
            current.last_failure = p.at
        elif current is not None:
            current.end = p.at
            current = None
    return out


@dataclass
class Availability:
    """The figures of a probe log over a window (the indicators use 7 days)."""

    start: datetime
    end: datetime
    probes: int = 0
    failures: int = 0
    covered_hours: float = 0.0  # first probe → last probe in the window
    checked: bool = False  # enough probes (min_hours) to judge
    longest: Outage | None = None
    outages: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    mean_latency_ms: float | None = None

    @property
    def ratio(self) -> float:
        return self.failures / self.probes if self.probes else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(timespec="seconds"),
            "end": self.end.isoformat(timespec="seconds"),
            "probes": self.probes,
            "failures": self.failures,
            "ratio": round(self.ratio, 4),
            "covered_hours": round(self.covered_hours, 1),
            "checked": self.checked,
            "outages": self.outages,
            "longest_outage": self.longest.as_dict() if self.longest else None,
            "by_kind": self.by_kind,
            "mean_latency_ms": self.mean_latency_ms,
        }


def figures(probes: list[Probe], start: datetime, end: datetime, min_hours: float) -> Availability:
    """Failures, ratio and the longest outage of the probes in [start, end]."""
    window = sorted((p for p in probes if start <= p.at <= end), key=lambda p: p.at)
    fig = Availability(start, end, probes=len(window))
    if not window:
        return fig
    fig.failures = sum(1 for p in window if not p.ok)
    fig.covered_hours = (window[-1].at - window[0].at) / timedelta(hours=1)
    fig.checked = fig.covered_hours >= min_hours
    found = outages(window)
    fig.outages = len(found)
    fig.longest = max(found, key=lambda o: (o.probes, o.minutes), default=None)
    for p in window:
        if not p.ok:
            fig.by_kind[p.kind.value] = fig.by_kind.get(p.kind.value, 0) + 1
    latencies = [p.latency_ms for p in window if p.ok and p.latency_ms is not None]
    if latencies:
        fig.mean_latency_ms = round(sum(latencies) / len(latencies), 1)
    return fig


def strip(probes: list[Probe], start: datetime, end: datetime) -> dict[str, Any]:
    """The up/down strip of a window as small plain data (for site_data and the report):
    minutes from ``start`` and 1/0 for each probe."""
    span = max((end - start).total_seconds() / 60, 1.0)
    marks = [
        [round((p.at - start).total_seconds() / 60, 1), 1 if p.ok else 0]
        for p in sorted(probes, key=lambda p: p.at)
        if start <= p.at <= end
    ]
    return {"start": start.isoformat(timespec="minutes"), "minutes": round(span), "marks": marks}
