"""Builds what a run's reports show (a ReportBundle) and renders it to files.

Files of a run (in its run directory): findings.json, report.html, 整改清单.xlsx, and per
unit units/<unit>.json and units/<unit>.xlsx. Everything is rendered from rule metadata
(RuleSpec); text from crawled pages only ever reaches HTML through Jinja2's autoescape.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from audits.base import RuleSpec, Severity
from audits.registry import discover
from audits.runner import all_rules
from govaudit.config import Config
from reports.output import atomic_write, dump_json, run_document
from reports.scorecard import Scorecard, compute_scorecard
from reports.store import Store
from reports.tracking import STATE_ZH, history, track

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


@dataclass
class RuleSection:
    spec: RuleSpec
    findings: list[dict[str, Any]]

    @property
    def severity(self) -> str:
        return self.findings[0]["severity"] if self.findings else self.spec.severity.value


@dataclass
class UnitSection:
    name: str
    open_findings: list[dict[str, Any]] = field(default_factory=list)  # new + open
    fixed: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
    rules: list[RuleSection] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)


@dataclass
class ReportBundle:
    run: dict[str, Any]
    config: Config
    findings: list[dict[str, Any]]  # every finding of the run, with state fields added
    active_findings: list[dict[str, Any]]  # not ignored
    rules: dict[str, Any]  # rule id → RuleSpec
    document: dict[str, Any]  # findings.json
    today: date
    extra: dict[str, Any] = field(default_factory=dict)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    ignored: list[dict[str, Any]] = field(default_factory=list)
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
    row = store.run_row(run_id) or row  # tracking stored its as_of / first_seen
    site_data = dict(row.get("site_data") or {})
    document = run_document(store, run_id, tracked.findings, status)
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
        {f["page"] for f in [*tracked.findings, *tracked.fixed] if f.get("page")},
    )
    bundle.units = unit_sections(bundle)
    bundle.scorecard = compute_scorecard(
        config,
        site_data,
        tracked.active,
        list(row.get("plugins") or []),
        _homepage_ok(store, run_id, row),
    )
    document["fixed"] = [_public(f) for f in tracked.fixed]
    document["scorecard"] = bundle.scorecard.as_dict()
    bundle.extra["history"] = history(
        store, row.get("site") or "", run_id, config.report.history, today
    )
    return bundle


def page_titles(store: Store, run_ids: list[int], urls: set[str]) -> dict[str, str]:
    """Titles of the pages findings were seen on (first run in ``run_ids`` that has one)."""
    from sqlalchemy import select

    from reports.store import pages

    titles: dict[str, str] = {}
    wanted = sorted(urls)
    for run_id in run_ids:
        missing = [u for u in wanted if u not in titles]
        for i in range(0, len(missing), 400):
            chunk = missing[i : i + 400]
            q = select(pages.c.url, pages.c.final_url, pages.c.title).where(
                pages.c.run_id == run_id, pages.c.final_url.in_(chunk) | pages.c.url.in_(chunk)
            )
            with store.engine.connect() as conn:
                for url, final, title in conn.execute(q):
                    for key in (url, final):
                        if title and key in urls:
                            titles.setdefault(key, title.strip())
    return titles


def _public(f: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "plugin",
        "rule",
        "severity",
        "url",
        "page",
        "message",
        "evidence",
        "unit",
        "fingerprint",
        "state",
        "first_seen",
        "fixed_on",
    )
    return {k: f.get(k) for k in keys}


def _homepage_ok(store: Store, run_id: int, row: dict[str, Any]) -> bool | None:
    urls = row.get("start_urls") or []
    if not urls:
        return None
    page = store.snapshot(run_id).page(urls[0])
    if page is None:
        return None
    return bool(page.status_code) and page.status_code < 400


def unit_sections(bundle: ReportBundle) -> list[UnitSection]:
    """Units with their findings grouped by rule, units with the most serious work first."""
    emails = {u.name: u.emails for u in bundle.config.units.unit}
    sections: dict[str, UnitSection] = {}

    def section(name: str | None) -> UnitSection:
        name = name or bundle.config.units.default
        if name not in sections:
            sections[name] = UnitSection(name=name, emails=emails.get(name, []))
        return sections[name]

    for f in bundle.findings:
        s = section(f.get("unit"))
        (s.ignored if f.get("ignored") else s.open_findings).append(f)
    for f in bundle.fixed:
        section(f.get("unit")).fixed.append(f)
    for s in sections.values():
        s.open_findings.sort(key=_order)
        grouped: dict[str, list[dict[str, Any]]] = {}
        for f in s.open_findings:
            grouped.setdefault(f["rule"], []).append(f)
        s.rules = [RuleSection(bundle.spec(rid), items) for rid, items in grouped.items()]
        states = Counter(f["state"] for f in s.open_findings)
        s.counts = {
            "new": states["new"],
            "open": states["open"],
            "fixed": len(s.fixed),
            "overdue": sum(1 for f in s.open_findings if f.get("overdue")),
            "ignored": len(s.ignored),
            "error": sum(1 for f in s.open_findings if f["severity"] == "error"),
        }
    return sorted(
        sections.values(),
        key=lambda s: (-s.counts["error"], -len(s.open_findings), -s.counts["fixed"], s.name),
    )


def _order(f: dict[str, Any]) -> tuple[Any, ...]:
    return (
        Severity(f["severity"]).rank,
        f["rule"],
        not f.get("overdue"),
        f.get("page") or "",
        f.get("url") or "",
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


def render_html(bundle: ReportBundle) -> str:
    cat_counts = Counter(bundle.spec(f["rule"]).category or "其他" for f in bundle.active_findings)
    unit_counts = [(s.name, len(s.open_findings)) for s in bundle.units if s.open_findings]
    plugin_titles = {name: cls.title for name, cls in discover().items()}
    tables = site_tables(bundle.site_data)
    state_counts = Counter(f["state"] for f in bundle.active_findings)
    script = report_script()
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            b=bundle,
            sev_zh=SEV_ZH,
            sev_color=SEV_COLOR,
            state_zh=STATE_ZH,
            cat_chart=bar_chart(cat_counts.most_common()),
            unit_chart=bar_chart(unit_counts),
            trend=trend_chart(bundle.extra.get("history") or []),
            tables=tables,
            plugin_titles=plugin_titles,
            screenshot=_Embedder(bundle.run_dirs),
            evidence_items=evidence_items,
            state_counts=state_counts,
            overdue=sum(1 for f in bundle.active_findings if f.get("overdue")),
            sev_counts=Counter(f["severity"] for f in bundle.active_findings),
            script=Markup(script),  # our own static file, never page data
            script_hash="sha256-"
            + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii"),
        )
    )


def unit_filename(name: str) -> str:
    """A file name for a unit: path separators and reserved characters replaced."""
    cleaned = _UNSAFE_FILENAME.sub("_", name).strip().lstrip(".") or "unit"
    return cleaned[:100]


def unit_document(bundle: ReportBundle, section: UnitSection) -> dict[str, Any]:
    doc = {k: v for k, v in bundle.document.items() if k not in ("findings", "fixed", "scorecard")}
    names = {section.name}
    default = bundle.config.units.default
    doc["unit"] = {"name": section.name, "emails": section.emails, "counts": section.counts}
    doc["findings"] = [
        f for f in bundle.document["findings"] if (f.get("unit") or default) in names
    ]
    doc["fixed"] = [
        f for f in bundle.document.get("fixed", []) if (f.get("unit") or default) in names
    ]
    return doc


def write_all(bundle: ReportBundle, run_dir: Path) -> list[Path]:
    from reports.xlsx import workbook_bytes

    files: list[Path] = []

    def put(rel: str, data: bytes | str) -> None:
        path = run_dir / rel
        atomic_write(path, data)
        files.append(path)

    put("findings.json", dump_json(bundle.document))
    put("report.html", render_html(bundle))
    put("整改清单.xlsx", workbook_bytes(bundle, bundle.units))
    seen: set[str] = set()
    for section in bundle.units:
        stem = unit_filename(section.name)
        while stem in seen:
            stem += "_"
        seen.add(stem)
        put(f"units/{stem}.json", dump_json(unit_document(bundle, section)))
        put(f"units/{stem}.xlsx", workbook_bytes(bundle, [section]))
    return files
