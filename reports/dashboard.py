"""The sites dashboard of ``govaudit serve``: one row per site with its latest score and
合格/不合格 prediction, veto items hit, open errors, overdue findings, availability, the trend
of the last runs and when it was last audited; and a run's report rendered from the
database alone when its files are not on this machine.

Reads the store only (each run's ``summary`` is written with its reports); knows nothing
of the HTTP server, schedules or executors.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from core.config import Config, config_from_dict
from reports.store import Store, runs

TREND_RUNS = 10


def run_summary(bundle: Any) -> dict[str, Any]:
    """What the dashboard shows of a run, computed once when its reports are written."""
    card = bundle.scorecard
    active = bundle.active_findings
    counts = {"error": 0, "warning": 0, "info": 0}
    counts.update(active.count_by("severity"))
    overdue = sum(n for value, n in active.count_by("overdue").items() if value)
    return {
        "score": card.score if card else None,
        "verdict": card.verdict if card else None,
        "veto": [i.title for i in card.veto_failed] if card else [],
        "counts": counts,
        "overdue": overdue,
        "as_of": bundle.today.isoformat() if bundle.today else None,
    }


def _when(ts: Any) -> str:
    if isinstance(ts, datetime):
        return ts.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    return "" if ts is None else str(ts)


def _availability(store: Store, config: Config, site: str) -> str:
    from reports.availability import site_figures

    try:
        fig, _log = site_figures(store, config, site, now=datetime.now())
    except Exception:
        return "—"
    if not fig.checked:
        return "未检测"
    return f"{(1 - fig.ratio) * 100:.1f}%"


def _sparkline(scores: list[float]) -> str:
    """An inline SVG of the scores (0–100), oldest first."""
    if not scores:
        return ""
    w, h = 100, 24
    step = w / max(1, len(scores) - 1)
    pts = " ".join(f"{i * step:.1f},{h - s / 100 * h:.1f}" for i, s in enumerate(scores))
    return (
        f"<svg class='trend' width='{w}' height='{h}' viewBox='0 0 {w} {h}' role='img' "
        f"aria-label='最近{len(scores)}次得分'><polyline fill='none' stroke='#2f6fb0' "
        f"stroke-width='1.5' points='{pts}'/></svg>"
    )


def site_rows(store: Store, sites: dict[str | None, Config]) -> list[dict[str, Any]]:
    """One row per configured site (and per other site found in the runs)."""
    wanted: dict[str, tuple[str, Config | None]] = {}
    for name, config in sites.items():
        if config.site.urls:
            wanted[config.homepage] = (config.site.name or name or config.homepage, config)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                runs.c.id,
                runs.c.site,
                runs.c.status,
                runs.c.started_at,
                runs.c.finished_at,
                runs.c.summary,
                runs.c.errors,
            )
            .where(runs.c.kind == "audit")
            .order_by(runs.c.id.desc())
            .limit(5000)
        ).mappings()
        by_site: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_site.setdefault(r["site"], []).append(dict(r))
    for site in by_site:
        wanted.setdefault(site, (site, None))
    out = []
    for site, (title, config) in wanted.items():
        history = by_site.get(site, [])
        good = [r for r in history if r["status"] == "succeeded"]
        latest = good[0] if good else None
        summary = (latest or {}).get("summary") or {}
        scores = [
            float(r["summary"]["score"])
            for r in reversed(good[:TREND_RUNS])
            if (r.get("summary") or {}).get("score") is not None
        ]
        last = history[0] if history else None
        out.append(
            {
                "site": site,
                "title": title,
                "latest": latest,
                "summary": summary,
                "scores": scores,
                "last": last,
                "availability": _availability(store, config, site) if config else "—",
            }
        )
    return out


def render_sites(store: Store, sites: dict[str | None, Config]) -> str:
    """The dashboard table (HTML fragment)."""
    e = html.escape
    rows = site_rows(store, sites)
    if not rows:
        return "<p>还没有配置网站。</p>"
    parts = [
        "<table id='sites'><tr><th>网站</th><th>得分</th><th>预判</th><th>单项否决</th>"
        "<th>严重问题</th><th>逾期未整改</th><th>首页可用率</th><th>趋势</th>"
        "<th>最近检查</th><th>报告</th></tr>"
    ]
    for r in rows:
        s, latest, last = r["summary"], r["latest"], r["last"]
        score = f"{s['score']:.1f}" if s.get("score") is not None else "—"
        verdict = s.get("verdict") or "—"
        vclass = "pass" if verdict == "合格" else ("fail" if verdict == "不合格" else "")
        veto = "、".join(s.get("veto") or []) or ("无" if latest else "—")
        errors = (s.get("counts") or {}).get("error", "—") if latest else "—"
        overdue = s.get("overdue", "—") if latest else "—"
        when = ""
        if last is not None:
            status = {"succeeded": "成功", "failed": "失败", "running": "运行中"}.get(
                last["status"], last["status"]
            )
            when = f"{_when(last['started_at'])} <span class='{e(last['status'])}'>{status}</span>"
        link = (
            f"<a href='/runs/{latest['id']}/report.html'>第 {latest['id']} 次报告</a>"
            if latest
            else "无"
        )
        parts.append(
            f"<tr class='site'><td>{e(r['title'])}<br><small><code>{e(r['site'])}</code></small></td>"
            f"<td class='score'>{score}</td><td class='verdict {vclass}'>{e(verdict)}</td>"
            f"<td class='veto'>{e(veto)}</td><td>{errors}</td><td>{overdue}</td>"
            f"<td>{e(r['availability'])}</td><td>{_sparkline(r['scores'])}</td>"
            f"<td>{when}</td><td>{link}</td></tr>"
        )
    parts.append("</table>")
    return "".join(parts)


def render_report_from_db(store: Store, run_id: int) -> bytes | None:
    """A run's report.html made again from the database (for a server that does not share
    the run's directory); None when the run is unknown or has not succeeded."""
    from reports.bundle import build_bundle
    from reports.html import render_html
    from reports.tracking import run_as_of

    row = store.run_row(run_id)
    if row is None or row["status"] != "succeeded":
        return None
    config = config_from_dict(row.get("config") or {}, f"run {run_id}")
    bundle = build_bundle(store, run_id, config, today=run_as_of(row), status="succeeded")
    return render_html(bundle).encode("utf-8")
