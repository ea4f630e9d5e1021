"""Report data: what a run's reports show (the ReportBundle and its unit sections).

Every writer (HTML, XLSX, JSON) and the mail read a bundle; this module knows no writer,
no CLI and no crawler.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from audits.base import RuleSpec, Severity
from audits.runner import all_rules
from core import __version__
from core.config import Config
from reports.scorecard import Scorecard, compute_scorecard
from reports.store import Store, utcnow
from reports.tracking import history, track
from reports.views import FindingSet

SCHEMA_VERSION = 1
_UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


# Findings are views of the store (reports/views.py), never whole lists in memory: each
# report file walks them once, a batch of rows at a time.
Findings = FindingSet


@dataclass
class RuleSection:
    spec: RuleSpec
    findings: Findings
    severity: str  # the most serious severity among ``findings``


@dataclass
class UnitSection:
    name: str
    open_findings: Findings  # new + open
    fixed: Findings
    ignored: Findings
    findings: Findings  # every finding of the unit (its JSON file)
    rules: list[RuleSection] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)


@dataclass
class ReportBundle:
    run: dict[str, Any]
    config: Config
    findings: Findings  # every finding of the run, with state fields added
    active_findings: Findings  # not ignored
    rules: dict[str, Any]  # rule id → RuleSpec
    document: dict[str, Any]  # findings.json without its finding lists
    today: date
    fixed: Findings
    ignored: Findings
    extra: dict[str, Any] = field(default_factory=dict)
    units: list[UnitSection] = field(default_factory=list)
    scorecard: Scorecard | None = None
    site_data: dict[str, Any] = field(default_factory=dict)
    previous_run: int | None = None
    run_dirs: list[Path] = field(default_factory=list)  # where evidence files may live

    def spec(self, rule_id: str) -> RuleSpec:
        """The rule's metadata; a stand-in for rules of plugins no longer installed."""
        spec = self.rules.get(rule_id)
        if spec is None:
            spec = RuleSpec(
                id=rule_id,
                title=rule_id,
                severity=Severity.WARNING,
                regulation="",
                advice="",
                category="其他",
            )
            self.rules[rule_id] = spec
        return spec


def build_bundle(
    store: Store, run_id: int, config: Config, today: date | None = None, status: str = "succeeded"
) -> ReportBundle:
    row = store.run_row(run_id) or {}
    tracked = track(store, run_id, config, today=today)
    today = tracked.as_of
    rules = {rid: spec for rid, (_plugin, spec) in all_rules().items()}
    row = store.run_row(run_id) or row  # tracking stored its as_of
    site_data = dict(row.get("site_data") or {})
    document = run_document(store, run_id, status)
    bundle = ReportBundle(
        run=document["run"]
        | {"kind": row.get("kind") or "audit", "parent_run": row.get("parent_run")},
        config=config,
        findings=tracked.findings,
        active_findings=tracked.active,
        rules=rules,
        document=document,
        today=today,
        fixed=tracked.fixed,
        ignored=tracked.ignored,
        site_data=site_data,
        previous_run=tracked.previous_run,
    )
    bundle.run_dirs = [store.run_dir(run_id)]
    if row.get("parent_run"):
        bundle.run_dirs.append(store.run_dir(int(row["parent_run"])))
    if tracked.previous_run:
        bundle.run_dirs.append(store.run_dir(tracked.previous_run))
    bundle.extra["titles"] = page_titles(
        store,
        [run_id, *(int(r) for r in {row.get("parent_run"), tracked.previous_run} if r)],
        [r for r in (run_id, tracked.previous_run) if r],
    )
    bundle.units = unit_sections(bundle)
    bundle.scorecard = compute_scorecard(
        config,
        site_data,
        tracked.active,
        list(row.get("plugins") or []),
        _homepage_ok(store, run_id, row),
    )
    document["scorecard"] = bundle.scorecard.as_dict()
    bundle.extra["history"] = history(
        store, row.get("site") or "", run_id, config.report.history, today
    )
    return bundle


def page_titles(store: Store, run_ids: list[int], finding_runs: list[int]) -> dict[str, str]:
    """Titles of the pages that findings of ``finding_runs`` were seen on (the first run
    in ``run_ids`` that has the page wins). Looked up by SQL, a page at a time."""
    from sqlalchemy import or_, select

    from reports.store import findings, pages

    wanted = (
        select(findings.c.page)
        .where(findings.c.run_id.in_(finding_runs), findings.c.page.is_not(None))
        .distinct()
        .scalar_subquery()
    )
    titles: dict[str, str] = {}
    with store.engine.connect() as conn:
        for run_id in run_ids:
            q = select(pages.c.url, pages.c.final_url, pages.c.title).where(
                pages.c.run_id == run_id,
                pages.c.title.is_not(None),
                pages.c.title != "",
                or_(pages.c.final_url.in_(wanted), pages.c.url.in_(wanted)),
            )
            for url, final, title in conn.execute(q):
                for key in (url, final):
                    titles.setdefault(key, title.strip())
    return titles


def _homepage_ok(store: Store, run_id: int, row: dict[str, Any]) -> bool | None:
    urls = row.get("start_urls") or []
    if not urls:
        return None
    page = store.snapshot(run_id).page(urls[0])
    if page is None:
        return None
    return bool(page.status_code) and page.status_code < 400


def unit_sections(bundle: ReportBundle) -> list[UnitSection]:
    """Units with their findings grouped by rule, units with the most serious work first.

    Counts come from SQL; each section's findings are views, read when rendered.
    """
    from sqlalchemy import case, func

    from reports.store import SEVERITY_RANK, findings

    emails = {u.name: u.emails for u in bundle.config.units.unit}
    default = bundle.config.units.default
    active, fixed, ignored = bundle.active_findings, bundle.fixed, bundle.ignored

    def name_of(unit: str | None) -> str:
        return unit or default

    # Findings without a unit belong to the default unit: counts are summed by name.
    by_state: Counter[tuple[str, str]] = Counter()
    for (u, st), n in active.count_by("unit", "state").items():
        by_state[(name_of(u), st)] += n
    overdue: Counter[str] = Counter()
    for (u, od), n in active.count_by("unit", "overdue").items():
        if od:
            overdue[name_of(u)] += n
    severity = active.count_by("unit", "rule", "severity")
    n_fixed: Counter[str] = Counter()
    for u, n in fixed.count_by("unit").items():
        n_fixed[name_of(u)] += n
    n_ignored: Counter[str] = Counter()
    for u, n in ignored.count_by("unit").items():
        n_ignored[name_of(u)] += n
    names = {name_of(u) for (u, _r, _s) in severity} | set(n_fixed) | set(n_ignored)

    unit_col = func.coalesce(findings.c.unit, default)
    order = (
        SEVERITY_RANK,
        findings.c.rule,
        case((findings.c.overdue.is_(True), 0), else_=1),
        func.coalesce(findings.c.page, ""),
        func.coalesce(findings.c.url, ""),
        findings.c.id,
    )
    sections: list[UnitSection] = []
    for name in names:
        mine = unit_col == name
        open_findings = active.filter(mine, order=order)
        top: dict[str, str] = {}
        for (u, rule, sev), _n in severity.items():
            if name_of(u) == name:
                best = top.get(rule)
                if best is None or Severity(sev).rank < Severity(best).rank:
                    top[rule] = sev
        rule_order = sorted(top, key=lambda r: (Severity(top[r]).rank, r))
        counts = {
            "new": by_state[(name, "new")],
            "open": by_state[(name, "open")],
            "fixed": n_fixed[name],
            "overdue": overdue[name],
            "ignored": n_ignored[name],
            "error": sum(
                n for (u, _r, sev), n in severity.items() if name_of(u) == name and sev == "error"
            ),
        }
        sections.append(
            UnitSection(
                name=name,
                open_findings=open_findings,
                fixed=fixed.filter(mine),
                ignored=ignored.filter(mine),
                rules=[
                    RuleSection(
                        bundle.spec(rid),
                        open_findings.filter(findings.c.rule == rid),
                        severity=top[rid],
                    )
                    for rid in rule_order
                ],
                counts=counts,
                emails=emails.get(name, []),
                findings=bundle.findings.filter(mine),
            )
        )
    return sorted(
        sections,
        key=lambda s: (-s.counts["error"], -len(s.open_findings), -s.counts["fixed"], s.name),
    )


def run_document(store: Store, run_id: int, status: str) -> dict[str, Any]:
    """The findings.json document (schema 1) without its finding lists."""
    row = store.run_row(run_id) or {}
    finished = row.get("finished_at") or utcnow()
    return {
        "schema": SCHEMA_VERSION,
        "generator": f"govaudit {__version__}",
        "run": {
            "id": run_id,
            "site": row.get("site"),
            "started_at": _iso(row.get("started_at")),
            "finished_at": _iso(finished),
            "status": status,
            "pages_crawled": row.get("pages_crawled") or 0,
            "links_checked": row.get("links_checked") or 0,
            "plugins": row.get("plugins") or [],
            "errors": [
                {k: v for k, v in e.items() if k != "traceback"} for e in (row.get("errors") or [])
            ],
        },
    }


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") + "Z" if value is not None else None


def unit_filename(name: str) -> str:
    """A file name for a unit: path separators and reserved characters replaced."""
    cleaned = _UNSAFE_FILENAME.sub("_", name).strip().lstrip(".") or "unit"
    return cleaned[:100]
