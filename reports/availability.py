"""The probe log in the run database, its 7-day figures and the report's up/down strip
(inline SVG). The alert mails are in reports/mail/alerts.py.

Knows nothing of how probes are scheduled or made (pipeline/availability.py, core/).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from core.availability import Availability, Probe, figures
from core.config import Config
from core.snapshot import StatusKind
from reports.store import Store, create_schema

availability_metadata = MetaData()

probes = Table(
    "probes",
    availability_metadata,
    Column("id", Integer, primary_key=True),
    Column("site", String, nullable=False),
    Column("at", DateTime, nullable=False),  # local time of the probe
    Column("ok", Boolean, nullable=False),
    Column("kind", String, nullable=False),  # core.snapshot.StatusKind
    Column("code", Integer),
    Column("latency_ms", Float),
    Column("detail", Text),
    Index("ix_probes_site_at", "site", "at"),
)


_READY: set[int] = set()  # engines whose probes table exists (create_all costs queries)


def ensure_probes(store: Store) -> None:
    if id(store.engine) not in _READY:
        create_schema(store.engine, availability_metadata)
        _READY.add(id(store.engine))


def record_probe(store: Store, site: str, probe: Probe) -> None:
    ensure_probes(store)
    with store.engine.begin() as conn:
        conn.execute(
            insert(probes).values(
                site=site,
                at=probe.at,
                ok=probe.ok,
                kind=probe.kind.value,
                code=probe.code,
                latency_ms=probe.latency_ms,
                detail=probe.detail,
            )
        )


def _probe(row: Any) -> Probe:
    return Probe(
        at=row["at"],
        ok=bool(row["ok"]),
        kind=StatusKind(row["kind"]),
        code=row["code"],
        latency_ms=row["latency_ms"],
        detail=row["detail"] or "",
    )


def probes_between(store: Store, site: str, start: datetime, end: datetime) -> list[Probe]:
    """The probes of ``site`` in [start, end], oldest first (7 days: ~1,000 rows)."""
    ensure_probes(store)
    q = (
        select(probes)
        .where(probes.c.site == site, probes.c.at >= start, probes.c.at <= end)
        .order_by(probes.c.at, probes.c.id)
    )
    with store.engine.connect() as conn:
        return [_probe(r) for r in conn.execute(q).mappings()]


def latest_probes(store: Store, site: str, limit: int) -> list[Probe]:
    """The last ``limit`` probes of ``site``, newest first."""
    ensure_probes(store)
    q = select(probes).where(probes.c.site == site).order_by(probes.c.at.desc(), probes.c.id.desc())
    with store.engine.connect() as conn:
        return [_probe(r) for r in conn.execute(q.limit(limit)).mappings()]


def probed_sites(store: Store) -> list[str]:
    ensure_probes(store)
    with store.engine.connect() as conn:
        return [
            r[0] for r in conn.execute(select(probes.c.site).distinct().order_by(probes.c.site))
        ]


def site_figures(
    store: Store, config: Config, site: str, days: int | None = None, now: datetime | None = None
) -> tuple[Availability, list[Probe]]:
    """The figures of the last ``days`` (default ``availability.window_days``) and the probes."""
    end = now or datetime.now()
    start = end - timedelta(days=days or config.availability.window_days)
    log = probes_between(store, site, start, end)
    return figures(log, start, end, config.availability.min_hours), log


def describe(fig: Availability, threshold: float) -> list[str]:
    """Chinese lines for ``govaudit availability`` and logs."""
    lines = [
        f"  时段 {fig.start:%Y-%m-%d %H:%M} 至 {fig.end:%Y-%m-%d %H:%M}",
        f"  探测 {fig.probes} 次，失败 {fig.failures} 次，不可访问比例 {fig.ratio:.2%}"
        f"（否决线 {threshold:.0%}）",
    ]
    if not fig.checked:
        lines.append(f"  探测记录仅覆盖 {fig.covered_hours:.1f} 小时，不足以判定（未检测）")
    elif fig.ratio >= threshold:
        lines.append("  结论：不通过（首页一周内不可访问比例达到否决线）")
    else:
        lines.append("  结论：通过")
    if fig.longest is not None:
        o = fig.longest
        end = f"{o.end:%Y-%m-%d %H:%M}" if o.end else "至今未恢复"
        lines.append(f"  最长中断：{o.start:%Y-%m-%d %H:%M} — {end}（连续 {o.probes} 次失败）")
    if fig.by_kind:
        kinds = "，".join(f"{k} {n}" for k, n in sorted(fig.by_kind.items()))
        lines.append(f"  失败类型：{kinds}")
    if fig.mean_latency_ms is not None:
        lines.append(f"  成功探测平均耗时 {fig.mean_latency_ms:.0f} ms")
    return lines


# ---- the report's strip --------------------------------------------------------------------


def strip_svg(data: Any, width: int = 720, height: int = 34) -> str:
    """An inline SVG of a window's probes: a green or red tick per probe, by time."""
    if not isinstance(data, dict) or not data.get("marks"):
        return ""
    span = float(data.get("minutes") or 1) or 1.0
    plot_w = width - 2
    tick = max(1.0, min(4.0, plot_w / max(len(data["marks"]), 1)))
    parts = [
        f'<svg class="avail-strip" role="img" width="{width}" height="{height + 16}" '
        f'viewBox="0 0 {width} {height + 16}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>首页探测（{len(data['marks'])}次）：绿色可访问，红色不可访问</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f4f6f6"/>',
    ]
    for minute, up in data["marks"]:
        x = 1 + plot_w * float(minute) / span
        color = "#27ae60" if up else "#c0392b"
        parts.append(
            f'<rect x="{x:.1f}" y="2" width="{tick:.1f}" height="{height - 4}" fill="{color}"/>'
        )
    start = escape(str(data.get("start", ""))).replace("T", " ")
    parts.append(f'<text x="0" y="{height + 12}" font-size="10">{start}</text>')
    parts.append(
        f'<text x="{width}" y="{height + 12}" font-size="10" text-anchor="end">本次检查</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
