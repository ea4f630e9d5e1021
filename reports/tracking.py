"""Run-to-run tracking: new / still open / fixed, first-seen dates, deadlines, decisions.

A finding is the same finding across runs when its fingerprint is the same. Each run
remembers, in its ``site_data``, the date it was taken as of (``report.as_of``) and the
first-seen date of each of its fingerprints (``report.first_seen``), so the first-seen
date carries along a chain of runs without re-reading all of them.

Deadlines (整改时限) count *working days* from the first-seen date with the official
holiday calendar (``chinesecalendar``: weekends, public holidays and the make-up working
days); dates outside the calendar's years fall back to Monday–Friday.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial
from typing import Any

from sqlalchemy import bindparam, func, select, update

from core.config import Config
from core.dates import add_working_days
from reports.store import TRACKING_COLUMNS, Store
from reports.store import findings as findings_table
from reports.store import runs as runs_table
from reports.views import FindingSet

log = logging.getLogger(__name__)

STATE_NEW = "new"
STATE_OPEN = "open"
STATE_FIXED = "fixed"
STATE_ZH = {STATE_NEW: "新发现", STATE_OPEN: "仍未整改", STATE_FIXED: "已整改"}

AS_OF_KEY = "report.as_of"
FIRST_SEEN_KEY = "report.first_seen"


# Working days: core.dates.add_working_days (re-exported for callers of this module).


# ---- tracking ----------------------------------------------------------------------
@dataclass
class Tracking:
    """The current run's findings annotated with their state, plus those fixed since before.

    The sets are views of the store (reports/views.py), read a batch at a time.
    """

    findings: FindingSet  # every finding of the run (ignored ones flagged)
    fixed: FindingSet  # in the previous run, not in this one
    previous_run: int | None
    as_of: date

    @property
    def active(self) -> FindingSet:
        return self.findings.filter(findings_table.c.ignored.is_not(True))

    @property
    def ignored(self) -> FindingSet:
        return self.findings.filter(findings_table.c.ignored.is_(True))


def run_as_of(row: dict[str, Any]) -> date:
    """The date a run was taken as of (``--today``), else the day it started."""
    value = (row.get("site_data") or {}).get(AS_OF_KEY)
    if value:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            pass
    started = row.get("started_at")
    return started.date() if isinstance(started, datetime) else date.today()


def previous_run_id(store: Store, run_id: int) -> int | None:
    """The run this one is compared with: a recheck's parent, else the last good run before it."""
    row = store.run_row(run_id)
    if row is None:
        return None
    if row.get("kind") == "recheck" and row.get("parent_run"):
        return int(row["parent_run"])
    prev = store.previous_good_run(row["site"], before=run_id)
    return prev.id if prev else None


def decisions_for(store: Store, site: str | None, today: date) -> dict[str, dict[str, Any]]:
    """Ignore decisions in force on ``today`` for ``site`` (or for every site)."""
    at = datetime.combine(today, time(12))
    return {
        fp: d
        for fp, d in store.active_decisions(at=at).items()
        if not d.get("site") or not site or d["site"] == site
    }


def track(
    store: Store,
    run_id: int,
    config: Config,
    today: date | None = None,
    persist: bool = True,
) -> Tracking:
    """Annotate run ``run_id``'s stored findings with state, first_seen, deadline, overdue,
    ignored (written to the findings table), and find those fixed since the previous run.

    Works a batch at a time: memory does not grow with the number of findings.
    """
    row = store.run_row(run_id) or {}
    as_of = today or run_as_of(row)
    prev_id = previous_run_id(store, run_id)
    prev_date = as_of.isoformat()
    legacy_first: dict[str, str] = {}
    if prev_id is not None:
        prev_row = store.run_row(prev_id) or {}
        prev_date = run_as_of(prev_row).isoformat()
        # Runs made by govaudit 0.1 kept first-seen dates in site_data, not in columns.
        legacy_first = dict((prev_row.get("site_data") or {}).get(FIRST_SEEN_KEY) or {})
    decisions = decisions_for(store, row.get("site"), as_of)
    f_cur = findings_table.alias("cur")
    f_prev = findings_table.alias("prev")
    q = (
        select(
            f_cur.c.id,
            f_cur.c.fingerprint,
            f_cur.c.severity,
            f_prev.c.id.label("prev_id"),
            f_prev.c.first_seen.label("prev_first"),
        )
        .select_from(
            f_cur.outerjoin(
                f_prev,
                (f_prev.c.run_id == (prev_id if prev_id is not None else -1))
                & (f_prev.c.fingerprint == f_cur.c.fingerprint),
            )
        )
        .where(f_cur.c.run_id == run_id)
        .order_by(f_cur.c.id)
    )
    stmt = (
        update(findings_table)
        .where(findings_table.c.id == bindparam("_id"))
        .values({c: bindparam(c) for c in TRACKING_COLUMNS})
    )

    def write(rows: list[Any]) -> None:
        # WAL mode: this writer commits while the reading connection keeps its snapshot.
        if rows:
            params = _annotations(rows, config, as_of, decisions, legacy_first, prev_date)
            with store.engine.begin() as conn:
                conn.execute(stmt, params)

    last_id = None
    with store.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(q)
        pending: list[Any] = []
        for r in result:
            if r.id == last_id:
                continue  # a fingerprint twice in the previous run joins twice
            last_id = r.id
            pending.append(r)
            if len(pending) >= 1000:
                write(pending)
                pending = []
        write(pending)
    if persist and row:
        site_data = dict(row.get("site_data") or {})
        site_data[AS_OF_KEY] = as_of.isoformat()
        site_data.pop(FIRST_SEEN_KEY, None)  # now kept per finding, in the findings table
        store.update_run(run_id, site_data=site_data)
    current = FindingSet(store, run_id)
    if prev_id is None:
        fixed = FindingSet(store, None)
    else:
        gone = (
            ~findings_table.c.fingerprint.in_(
                select(findings_table.c.fingerprint).where(findings_table.c.run_id == run_id)
            ),
        )
        if decisions:
            gone += (~findings_table.c.fingerprint.in_(list(decisions)),)
        fixed = FindingSet(
            store,
            prev_id,
            gone,
            transform=partial(
                _as_fixed, config=config, as_of=as_of, legacy=legacy_first, prev_date=prev_date
            ),
        )
    return Tracking(current, fixed, prev_id, as_of)


def _annotations(
    rows: list[Any],
    config: Config,
    as_of: date,
    decisions: dict[str, dict[str, Any]],
    legacy_first: dict[str, str],
    prev_date: str,
) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        f: dict[str, Any] = {"severity": r.severity}
        if r.prev_id is not None:
            f["state"] = STATE_OPEN
            f["first_seen"] = r.prev_first or legacy_first.get(r.fingerprint) or prev_date
        else:
            f["state"] = STATE_NEW
            f["first_seen"] = as_of.isoformat()
        f["ignore_reason"] = f["ignore_until"] = None
        _annotate(f, config, as_of, decisions.get(r.fingerprint))
        out.append({"_id": r.id, **{c: f.get(c) for c in TRACKING_COLUMNS}})
    return out


def _as_fixed(
    f: dict[str, Any], config: Config, as_of: date, legacy: dict[str, str], prev_date: str
) -> dict[str, Any]:
    f["state"] = STATE_FIXED
    f["first_seen"] = f.get("first_seen") or legacy.get(f["fingerprint"]) or prev_date
    _annotate(f, config, as_of, None)
    f["overdue"] = False
    f["fixed_on"] = as_of.isoformat()
    for key in ("ignore_reason", "ignore_until"):
        f.pop(key, None)
    return f


def _annotate(
    f: dict[str, Any], config: Config, as_of: date, decision: dict[str, Any] | None
) -> None:
    first = date.fromisoformat(f["first_seen"])
    days = config.report.deadline_days.get(
        f["severity"], config.report.deadline_days.get("info", 30)
    )
    deadline = add_working_days(first, days)
    f["deadline"] = deadline.isoformat()
    f["age_days"] = max((as_of - first).days, 0)
    f["overdue"] = as_of > deadline
    f["ignored"] = decision is not None
    if decision is not None:
        f["ignore_reason"] = decision.get("reason") or ""
        until = decision.get("until")
        f["ignore_until"] = until.date().isoformat() if isinstance(until, datetime) else None


def history(store: Store, site: str, upto: int, limit: int, today: date) -> list[dict[str, Any]]:
    """Counts per severity of the last ``limit`` succeeded runs of ``site`` (oldest first)."""
    q = (
        select(runs_table.c.id, runs_table.c.started_at, runs_table.c.site_data, runs_table.c.kind)
        .where(
            runs_table.c.site == site,
            runs_table.c.id <= upto,
            (runs_table.c.status == "succeeded") | (runs_table.c.id == upto),
        )
        .order_by(runs_table.c.id.desc())
        .limit(limit)
    )
    ignored = list(decisions_for(store, site, today))
    counts: dict[tuple[int, str], int] = {}
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
        ids = [r["id"] for r in rows]
        cols = (findings_table.c.run_id, findings_table.c.severity)
        per_run = select(*cols, func.count()).where(findings_table.c.run_id.in_(ids))
        for run_id, severity, n in conn.execute(per_run.group_by(*cols)):
            counts[(run_id, severity)] = counts.get((run_id, severity), 0) + n
        for i in range(0, len(ignored), 500):  # ignored findings do not count
            chunk = ignored[i : i + 500]
            q_ign = per_run.where(findings_table.c.fingerprint.in_(chunk)).group_by(*cols)
            for run_id, severity, n in conn.execute(q_ign):
                counts[(run_id, severity)] -= n
    out = []
    for r in reversed(rows):
        sev = {s: counts.get((r["id"], s), 0) for s in ("error", "warning", "info")}
        out.append({"id": r["id"], "date": run_as_of(r).isoformat(), "kind": r["kind"], **sev})
    return out


# ---- decisions ---------------------------------------------------------------------
class DecisionError(Exception):
    """The decision cannot be recorded (no such finding)."""


def ignore_finding(
    store: Store, fingerprint: str, reason: str, until: datetime | None = None
) -> tuple[int, dict[str, Any]]:
    """Record a decision to ignore ``fingerprint`` (later runs honour it); returns the
    decision id and the finding it names (rule, message, site)."""
    q = (
        select(findings_table.c.rule, findings_table.c.message, runs_table.c.site)
        .join(runs_table, runs_table.c.id == findings_table.c.run_id)
        .where(findings_table.c.fingerprint == fingerprint)
        .order_by(findings_table.c.id.desc())
        .limit(1)
    )
    with store.engine.connect() as conn:
        found = conn.execute(q).first()
    if found is None:
        raise DecisionError(
            f"no finding with fingerprint {fingerprint!r} in {store.location} "
            "(see findings.json or the 问题编号 column of 整改清单.xlsx)"
        )
    decision = store.add_decision(fingerprint, reason, until=until, site=found.site)
    return decision, {"rule": found.rule, "message": found.message, "site": found.site}
