"""整改清单.xlsx: a summary sheet plus one sheet per responsible unit (openpyxl)."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.bundle import ReportBundle, UnitSection
from reports.text import neutralize_bidi
from reports.tracking import STATE_ZH

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
        value = neutralize_bidi(_CONTROL.sub("", value))
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


Rows = Callable[[], Iterable[tuple[list[Any], PatternFill | None]]]


def _styled(ws: Any, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=_cell(value))
    if cell.data_type == "f":
        cell.data_type = "s"  # text from a page is never a formula
    for key, val in style.items():
        setattr(cell, key, val)
    return cell


def column_widths(header: Sequence[str], rows: Rows) -> tuple[list[float], int]:
    """Column widths that fit the longest line of each column (capped), and the row count."""
    caps = [MAX_WIDTH.get(str(name), 60) for name in header]
    widths = [display_width(str(name)) for name in header]
    count = 0
    for values, _fill in rows():
        count += 1
        for i, v in enumerate(values[: len(widths)]):
            if v is None or widths[i] >= caps[i]:
                continue
            # Only the first ``cap`` characters of a line can matter: each is ≥ 1 column.
            w = max((display_width(line[: caps[i]]) for line in str(v).splitlines()), default=0)
            if w > widths[i]:
                widths[i] = w
    return [min(max(w + 2, 6), cap) for w, cap in zip(widths, caps, strict=True)], count


def _table_sheet(
    ws: Any,
    header: Sequence[str],
    rows: Rows,
    fill_col: int | None = None,
    sized: tuple[list[float], int] | None = None,
) -> None:
    """A table sheet, streamed: ``rows()`` is walked twice (column widths, then cells),
    so no sheet is ever held in memory whole. ``fill_col`` gets each row's fill."""
    widths, count = sized or column_widths(header, rows)
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    if count:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    head_font = Font(bold=True, color="FFFFFF")
    head_align = Alignment(vertical="center", horizontal="center", wrap_text=True)
    ws.append(
        [
            _styled(ws, name, font=head_font, fill=HEADER_FILL, alignment=head_align)
            for name in header
        ]
    )
    # Every body cell has the same style: resolve it once and copy the resolved style
    # indices (openpyxl's StyleArray) instead of re-hashing an Alignment per cell.
    plain = _styled(ws, "", alignment=Alignment(wrap_text=True, vertical="top"))._style
    for values, fill in rows():
        cells = []
        for v in values:
            cell = WriteOnlyCell(ws, value=_cell(v))
            if cell.data_type == "f":
                cell.data_type = "s"  # text from a page is never a formula
            cell._style = copy(plain)
            cells.append(cell)
        if fill is not None and fill_col is not None:
            cells[fill_col - 1].fill = fill
        ws.append(cells)


def _unit_rows(section: UnitSection, bundle: ReportBundle) -> Rows:
    def rows() -> Iterator[tuple[list[Any], PatternFill | None]]:
        index = 0
        for group in (section.open_findings, section.fixed):
            for f in group:
                index += 1
                fill = (
                    FIXED_FILL
                    if f.get("state") == "fixed"
                    else OVERDUE_FILL
                    if f.get("overdue")
                    else None
                )
                yield finding_row(index, f, bundle), fill

    return rows


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
    widths = [16, 12, 12, 10, 10, 16]
    longest = max([display_width(str(v)) for _k, v in info] + [10])
    widths[1] = max(widths[1], min(longest + 2, 70))
    widths[0] = max(
        16, min(max(display_width(s.name) for s in sections) + 2, 40) if sections else 16
    )
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    bold = Font(bold=True)
    for key, value in info:
        ws.append([_styled(ws, key, font=bold), _styled(ws, value)])
    ws.append([])
    header = ["责任单位", "新发现", "仍未整改", "已超期", "已整改", "合计（待整改）"]
    head_font = Font(bold=True, color="FFFFFF")
    ws.append([_styled(ws, h, font=head_font, fill=HEADER_FILL) for h in header])
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


IGNORED_HEADER = [
    "序号",
    "问题类型",
    "问题描述",
    "所在页面",
    "问题地址",
    "责任单位",
    "忽略理由",
    "有效期至",
    "问题编号",
]


def write_workbook(bundle: ReportBundle, sections: list[UnitSection], fh: IO[bytes]) -> None:
    """The workbook (汇总, one sheet per unit in ``sections``, 已忽略 if any), written to
    ``fh`` in openpyxl's write-only mode: rows go to disk as they are made."""
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    _summary_sheet(wb.create_sheet(sheet_title("汇总", taken)), bundle, sections)
    state_col = COLUMNS.index("状态") + 1
    for section in sections:
        ws = wb.create_sheet(sheet_title(section.name, taken))
        rows = _unit_rows(section, bundle)
        # A unit's sheet is in the full workbook and in its own: measure it once.
        sized = bundle.extra.setdefault("xlsx_widths", {}).get(section.name)
        if sized is None:
            sized = bundle.extra["xlsx_widths"][section.name] = column_widths(COLUMNS, rows)
        _table_sheet(ws, COLUMNS, rows, fill_col=state_col, sized=sized)
    if any(s.ignored for s in sections):

        def ignored_rows() -> Iterator[tuple[list[Any], PatternFill | None]]:
            i = 0
            for s in sections:
                for f in s.ignored:
                    i += 1
                    yield (
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
                        ],
                        None,
                    )

        _table_sheet(wb.create_sheet(sheet_title("已忽略", taken)), IGNORED_HEADER, ignored_rows)
    wb.save(fh)


def workbook_bytes(bundle: ReportBundle, sections: list[UnitSection]) -> bytes:
    """The workbook as bytes (small runs and tests; write_all streams to a file)."""
    buf = io.BytesIO()
    write_workbook(bundle, sections, buf)
    return buf.getvalue()
