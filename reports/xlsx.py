"""整改清单.xlsx: a summary sheet plus one sheet per responsible unit (openpyxl)."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.tracking import STATE_ZH

if TYPE_CHECKING:
    from reports.render import ReportBundle, UnitSection

COLUMNS = [
    "序号",
    "问题类型",
    "问题描述",
    "所在页面",
    "问题地址",
    "证据",
    "整改建议",
    "依据",
    "首次发现",
    "整改时限",
    "状态",
    "问题编号",
]
MAX_WIDTH = {"问题描述": 48, "证据": 40, "整改建议": 44, "依据": 30, "所在页面": 42, "问题地址": 42}
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
OVERDUE_FILL = PatternFill("solid", fgColor="FDE2E1")
FIXED_FILL = PatternFill("solid", fgColor="E2F0D9")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl refuses these


def display_width(text: str) -> int:
    """Columns a string needs: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unique sheet name: ≤ 31 characters, none of []:*?/\\, no edge apostrophes."""
    base = _BAD_SHEET_CHARS.sub("_", name).strip("'").strip() or "未命名"
    base = base[:31]
    title, n = base, 2
    while title.lower() in {t.lower() for t in taken}:
        suffix = f"({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(title)
    return title


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = _CONTROL.sub("", value)
        if len(value) > 32000:  # Excel's cell limit is 32,767 characters
            value = value[:32000] + "…"
    return value


def evidence_text(evidence: dict[str, Any]) -> str:
    parts = []
    for key, value in (evidence or {}).items():
        if key == "screenshot" or value in (None, "", [], {}):
            continue
        parts.append(f"{key}: {value}")
    return "\n".join(parts)


def finding_row(index: int, f: dict[str, Any], bundle: ReportBundle) -> list[Any]:
    spec = bundle.spec(f["rule"])
    state = STATE_ZH.get(f.get("state", ""), "")
    if f.get("overdue"):
        state += "（已超期）"
    if f.get("ignored"):
        state = "已忽略"
    return [
        index,
        spec.title,
        f.get("message") or "",
        f.get("page") or "",
        f.get("url") or "",
        evidence_text(f.get("evidence") or {}),
        spec.advice,
        spec.regulation,
        f.get("first_seen") or "",
        f.get("deadline") or "",
        state,
        f["fingerprint"],
    ]


def _table_sheet(ws: Any, header: Sequence[str], rows: list[list[Any]]) -> None:
    ws.append(list(header))
    for row in rows:
        ws.append([_cell(v) for v in row])
    for col, name in enumerate(header, 1):
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", horizontal="center", wrap_text=True)
        longest = max(
            [display_width(str(name))]
            + [
                max((display_width(line) for line in str(r[col - 1]).splitlines()), default=0)
                for r in rows
                if r[col - 1] is not None
            ]
        )
        cap = MAX_WIDTH.get(str(name), 60)
        ws.column_dimensions[get_column_letter(col)].width = min(max(longest + 2, 6), cap)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
            if cell.data_type == "f":
                cell.data_type = "s"  # text from a page is never a formula
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def _unit_sheet(ws: Any, section: UnitSection, bundle: ReportBundle) -> None:
    items = section.open_findings + section.fixed
    rows = [finding_row(i, f, bundle) for i, f in enumerate(items, 1)]
    _table_sheet(ws, COLUMNS, rows)
    state_col = COLUMNS.index("状态") + 1
    for r, f in enumerate(items, 2):
        fill = (
            FIXED_FILL if f.get("state") == "fixed" else OVERDUE_FILL if f.get("overdue") else None
        )
        if fill is not None:
            ws.cell(row=r, column=state_col).fill = fill


def _summary_sheet(ws: Any, bundle: ReportBundle, sections: list[UnitSection]) -> None:
    run = bundle.run
    card = bundle.scorecard
    info = [
        ("网站", f"{bundle.config.site.name} {run.get('site') or ''}".strip()),
        ("检查编号", run.get("id")),
        ("检查日期", bundle.today.isoformat()),
        ("抓取页面数", run.get("pages_crawled")),
        ("检查链接数", run.get("links_checked")),
        ("自查评分预测", f"{card.verdict}（{card.score:g} 分）" if card else "未计算"),
    ]
    for key, value in info:
        ws.append([key, _cell(value)])
        ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
    ws.append([])
    header = ["责任单位", "新发现", "仍未整改", "已超期", "已整改", "合计（待整改）"]
    start = ws.max_row + 1
    ws.append(header)
    for col in range(1, len(header) + 1):
        cell = ws.cell(row=start, column=col)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
    for s in sections:
        ws.append(
            [
                s.name,
                s.counts["new"],
                s.counts["open"],
                s.counts["overdue"],
                s.counts["fixed"],
                s.counts["new"] + s.counts["open"],
            ]
        )
    widths = [16, 12, 12, 10, 10, 16]
    longest = max([display_width(str(v)) for _k, v in info] + [10])
    widths[1] = max(widths[1], min(longest + 2, 70))
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.column_dimensions["A"].width = max(
        16, min(max(display_width(s.name) for s in sections) + 2, 40) if sections else 16
    )


def workbook_bytes(bundle: ReportBundle, sections: list[UnitSection]) -> bytes:
    """The workbook: 汇总, one sheet per unit in ``sections``, and 已忽略 if any."""
    wb = Workbook()
    summary = wb.active
    taken: set[str] = set()
    summary.title = sheet_title("汇总", taken)
    _summary_sheet(summary, bundle, sections)
    for section in sections:
        _unit_sheet(wb.create_sheet(sheet_title(section.name, taken)), section, bundle)
    ignored = [f for s in sections for f in s.ignored]
    if ignored:
        ws = wb.create_sheet(sheet_title("已忽略", taken))
        rows = [
            [
                i,
                bundle.spec(f["rule"]).title,
                f.get("message") or "",
                f.get("page") or "",
                f.get("url") or "",
                f.get("unit") or "",
                f.get("ignore_reason") or "",
                f.get("ignore_until") or "长期",
                f["fingerprint"],
            ]
            for i, f in enumerate(ignored, 1)
        ]
        _table_sheet(
            ws,
            [
                "序号",
                "问题类型",
                "问题描述",
                "所在页面",
                "问题地址",
                "责任单位",
                "忽略理由",
                "有效期至",
                "问题编号",
            ],
            rows,
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
