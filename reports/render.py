"""Builds what a run's reports show (a ReportBundle) and renders it to files.

Files of a run (in its run directory): findings.json, report.html, 整改清单.xlsx, and per
unit units/<unit>.json and units/<unit>.xlsx. Everything is rendered from rule metadata
(RuleSpec); text from crawled pages only ever reaches HTML through Jinja2's autoescape.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from audits.base import RuleSpec, Severity
from audits.registry import discover
from audits.runner import all_rules
from core.config import Config
from reports.output import (
    atomic_writer,
    dump_json,
    public_current,
    public_finding,
    run_document,
    write_json_stream,
)
from reports.scorecard import Scorecard, compute_scorecard
from reports.store import Store
from reports.tracking import STATE_ZH, history, track
from reports.views import FindingSet

SEV_ZH = {"error": "严重", "warning": "警告", "info": "提示"}
SEV_COLOR = {"error": "#c0392b", "warning": "#d68910", "info": "#2e86c1"}
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
}
MAX_SCREENSHOT_BYTES = 3_000_000
MAX_EMBEDDED_BYTES = 40_000_000  # keep report.html openable
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


# ---- charts (inline SVG, data prepared here, drawn by the template) ----------------
def bar_chart(pairs: list[tuple[str, int]], width: int = 460) -> dict[str, Any]:
    top = max((v for _k, v in pairs), default=0) or 1
    label_w = 150
    bars = []
    for i, (label, value) in enumerate(pairs):
        bars.append(
            {
                "label": label,
                "value": value,
                "y": i * 26,
                "w": round((width - label_w - 50) * value / top, 1),
            }
        )
    return {"bars": bars, "height": max(len(pairs) * 26, 26), "width": width, "label_w": label_w}


def trend_chart(
    points: list[dict[str, Any]], width: int = 460, height: int = 180
) -> dict[str, Any]:
    top = max((p["error"] + p["warning"] + p["info"] for p in points), default=0) or 1
    plot_h = height - 40
    step = (width - 40) / max(len(points), 1)
    bar_w = min(36.0, step * 0.7)
    cols = []
    for i, p in enumerate(points):
        x = 30 + i * step + (step - bar_w) / 2
        y = 10 + plot_h
        segs = []
        for sev in ("error", "warning", "info"):
            h = plot_h * p[sev] / top
            y -= h
            segs.append({"sev": sev, "y": round(y, 1), "h": round(h, 1), "n": p[sev]})
        cols.append(
            {
                "x": round(x, 1),
                "w": round(bar_w, 1),
                "segs": segs,
                "total": p["error"] + p["warning"] + p["info"],
                "label": p["date"][5:],
                "id": p["id"],
                "top_y": round(y, 1),
            }
        )
    return {"cols": cols, "width": width, "height": height, "base": 10 + plot_h, "top": top}


# ---- evidence ----------------------------------------------------------------------
class _Embedder:
    """Turns evidence["screenshot"] (relative to a run directory) into a data: URI."""

    def __init__(self, run_dirs: list[Path]) -> None:
        self.run_dirs = [d.resolve() for d in run_dirs]
        self.total = 0
        self.cache: dict[str, str | None] = {}

    def __call__(self, rel: Any) -> str | None:
        if not isinstance(rel, str) or not rel:
            return None
        if rel in self.cache:
            return self.cache[rel]
        uri = None
        for base in self.run_dirs:
            path = (base / rel).resolve()
            if not path.is_relative_to(base) or not path.is_file():
                continue  # never read outside a run directory
            mime = IMAGE_TYPES.get(path.suffix.lower())
            size = path.stat().st_size
            if mime and size <= MAX_SCREENSHOT_BYTES and self.total + size <= MAX_EMBEDDED_BYTES:
                self.total += size
                uri = f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
            break
        self.cache[rel] = uri
        return uri


def evidence_items(evidence: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for key, value in (evidence or {}).items():
        if key == "screenshot" or value in (None, "", [], {}):
            continue
        if isinstance(value, list | dict):
            value = dump_json(value) if len(str(value)) < 600 else str(value)[:600] + "…"
        out.append((str(key), str(value)))
    return out


def site_tables(site_data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """plugin name → its "*.table" entries, validated enough to render."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, value in sorted(site_data.items()):
        if not key.endswith(".table") or not isinstance(value, dict):
            continue
        columns = [str(c) for c in value.get("columns") or []]
        rows = [
            [("" if c is None else str(c)) for c in r]
            for r in value.get("rows") or []
            if isinstance(r, list | tuple)
        ]
        out.setdefault(key.split(".", 1)[0], []).append(
            {"title": str(value.get("title") or key), "columns": columns, "rows": rows}
        )
    return out


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def report_script() -> str:
    """The report's inline JavaScript (sorting, filtering); allowed by its CSP hash."""
    return (Path(__file__).parent / "templates" / "report.js").read_text(encoding="utf-8")


def _html_context(bundle: ReportBundle) -> dict[str, Any]:
    active = bundle.active_findings
    by_rule = active.count_by("rule")
    state_counts = active.count_by("state")
    sev_counts = active.count_by("severity")
    overdue = active.count_by("overdue")[True]
    cat_counts: Counter[str] = Counter()
    for rule, n in by_rule.items():
        cat_counts[bundle.spec(rule).category or "其他"] += n
    unit_counts = [
        (s.name, s.counts["new"] + s.counts["open"])
        for s in bundle.units
        if s.counts["new"] + s.counts["open"]
    ]
    script = report_script()
    return dict(
        b=bundle,
        sev_zh=SEV_ZH,
        sev_color=SEV_COLOR,
        state_zh=STATE_ZH,
        cat_chart=bar_chart(cat_counts.most_common()),
        unit_chart=bar_chart(unit_counts),
        trend=trend_chart(bundle.extra.get("history") or []),
        tables=site_tables(bundle.site_data),
        plugin_titles={name: cls.title for name, cls in discover().items()},
        screenshot=_Embedder(bundle.run_dirs),
        evidence_items=evidence_items,
        state_counts=state_counts,
        overdue=overdue,
        sev_counts=sev_counts,
        script=Markup(script),  # our own static file, never page data
        script_hash="sha256-"
        + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii"),
    )


def render_html(bundle: ReportBundle) -> str:
    """report.html as one string (tests, small runs); write_all streams it instead."""
    return "".join(iter_html(bundle))


def iter_html(bundle: ReportBundle) -> Iterator[str]:
    """report.html in pieces, as Jinja2 produces them."""
    template = environment().get_template("report.html.j2")
    return template.generate(**_html_context(bundle))


def unit_filename(name: str) -> str:
    """A file name for a unit: path separators and reserved characters replaced."""
    cleaned = _UNSAFE_FILENAME.sub("_", name).strip().lstrip(".") or "unit"
    return cleaned[:100]


def unit_document(bundle: ReportBundle, section: UnitSection) -> dict[str, Any]:
    """A unit's JSON document (its findings and fixed ones; read whole: small runs, tests)."""
    doc = unit_header(bundle, section)
    doc["findings"] = [public_current(f) for f in section.findings]
    doc["fixed"] = [public_finding(f) for f in section.fixed]
    return doc


def unit_header(bundle: ReportBundle, section: UnitSection) -> dict[str, Any]:
    doc = {k: v for k, v in bundle.document.items() if k not in ("findings", "fixed", "scorecard")}
    doc["unit"] = {"name": section.name, "emails": section.emails, "counts": section.counts}
    return doc


def write_all(bundle: ReportBundle, run_dir: Path) -> list[Path]:
    """Write every file of the run, each streamed from the store to disk."""
    from reports.xlsx import write_workbook

    files: list[Path] = []

    def json_doc(rel: str, head: dict[str, Any], current: Findings, fixed: Findings) -> None:
        path = run_dir / rel
        write_json_stream(
            path,
            head,
            {
                "findings": (public_current(f) for f in current),
                "fixed": (public_finding(f) for f in fixed),
            },
        )
        files.append(path)

    def put(rel: str, chunks: Iterable[str]) -> None:
        path = run_dir / rel
        with atomic_writer(path) as fh:
            for chunk in chunks:
                fh.write(chunk)
        files.append(path)

    def xlsx(rel: str, sections: list[UnitSection]) -> None:
        path = run_dir / rel
        with atomic_writer(path, binary=True) as fh:
            write_workbook(bundle, sections, fh)
        files.append(path)

    def put_copy(rel: str, source: Path) -> None:
        path = run_dir / rel
        with atomic_writer(path, binary=True) as fh, open(source, "rb") as src:
            shutil.copyfileobj(src, fh)
        files.append(path)

    head = {k: v for k, v in bundle.document.items() if k not in ("findings", "fixed")}
    json_doc("findings.json", head, bundle.findings, bundle.fixed)
    put("report.html", iter_html(bundle))
    xlsx("整改清单.xlsx", bundle.units)
    seen: set[str] = set()
    for section in bundle.units:
        stem = unit_filename(section.name)
        while stem in seen:
            stem += "_"
        seen.add(stem)
        json_doc(
            f"units/{stem}.json", unit_header(bundle, section), section.findings, section.fixed
        )
        if len(bundle.units) == 1:  # the unit's workbook is the full one: same sheets
            put_copy(f"units/{stem}.xlsx", run_dir / "整改清单.xlsx")
        else:
            xlsx(f"units/{stem}.xlsx", [section])
    return files
