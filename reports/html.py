"""The HTML writer: report.html, self-contained (inline SVG charts, embedded screenshots).

Reads the report bundle; imports no other writer. Text from crawled pages reaches HTML only
through Jinja2's autoescape.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from audits.registry import discover
from reports.availability import strip_svg
from reports.bundle import ReportBundle
from reports.files import dump_json
from reports.text import neutralize_bidi
from reports.tracking import STATE_ZH

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
        finalize=neutralize_bidi,  # page text never reverses the report's lines
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
        # numbers and an escaped date only: the 7-day up/down strip of the homepage probes
        avail_strip=Markup(strip_svg(bundle.site_data.get("availability.strip"))),
        avail=bundle.site_data.get("availability.figures") or {},
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
