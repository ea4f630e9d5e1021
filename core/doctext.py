"""Document text: the text of an attachment file (PDF, DOCX, XLSX, DOC, XLS), piece by piece.

Each piece keeps where it is (PDF page, sheet, paragraph or cell) so findings can say so.
Knows nothing of the network, the store or the audits; it reads a file on disk.
Readers: PDF through Debian's pdftotext (poppler; pypdf when it is missing or fails),
python-docx, openpyxl (read-only), xlrd; DOC through Debian's antiword (catdoc when
antiword fails on a file).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

FORMATS = ("pdf", "docx", "xlsx", "doc", "xls")
EXTENSIONS = {".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".doc": "doc", ".xls": "xls"}

#: Status of one attachment's text. ``ok`` pieces carry text; the others carry the reason
#: the file was not checked (reports say 未检测 with it).
OK = "ok"
SCANNED = "scanned"  # a PDF with pages but no text layer (images only): OCR is not done
TOO_LARGE = "too_large"
TIMEOUT = "timeout"
UNREADABLE = "unreadable"  # damaged, encrypted, or not the format it claims
FETCH_FAILED = "fetch_failed"
REFUSED = "refused"  # private address, or a scheme other than http(s)
NOT_CHECKED_TEXT = {
    SCANNED: "扫描件（仅含图像，无文字层），未做文字识别",
    TOO_LARGE: "文件超过大小上限",
    TIMEOUT: "下载或解析超时",
    UNREADABLE: "文件损坏、加密或格式无法识别",
    FETCH_FAILED: "下载失败",
    REFUSED: "地址指向内网或非HTTP协议，未下载",
}


@dataclass
class Piece:
    """A located run of text: ``location`` e.g. 第3页 / 工作表“名单” / 正文; ``spans`` are
    (offset, finer location) pairs, e.g. (120, "名单!C4"), for text assembled from cells."""

    location: str
    text: str
    spans: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Extracted:
    format: str
    status: str = OK
    detail: str = ""
    pieces: list[Piece] = field(default_factory=list)

    @property
    def chars(self) -> int:
        return sum(len(p.text) for p in self.pieces)


class _Budget:
    """Stops extraction at a character limit or a deadline."""

    def __init__(self, max_chars: int, timeout: float) -> None:
        self.left = max_chars
        self.deadline = time.monotonic() + timeout

    def take(self, n: int) -> None:
        self.left -= n
        if time.monotonic() > self.deadline:
            raise _Stop(TIMEOUT, "extraction took too long")

    @property
    def full(self) -> bool:
        return self.left <= 0


class _Stop(Exception):
    def __init__(self, status: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def sniff(head: bytes, url: str = "", content_type: str = "") -> str | None:
    """The format of a file from its first bytes (the URL and type only break OLE/ZIP ties)."""
    lower_url = url.lower().split("?", 1)[0]
    ctype = content_type.lower()
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if lower_url.endswith((".xls", ".et")) or "excel" in ctype:
            return "xls"
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        if lower_url.endswith(".xlsx") or "spreadsheet" in ctype:
            return "xlsx"
        if lower_url.endswith(".docx") or "wordprocessing" in ctype:
            return "docx"
        return "zip"  # decided by its members in extract()
    return None


def format_of_url(url: str) -> str | None:
    """The attachment format a link's path names (``.pdf`` …), or None."""
    path = url.lower().split("?", 1)[0].split("#", 1)[0]
    dot = path.rfind(".")
    return EXTENSIONS.get(path[dot:]) if dot > path.rfind("/") else None


def extract(path: Path, fmt: str, max_chars: int = 2_000_000, timeout: float = 60.0) -> Extracted:
    """The text of the file at ``path`` read as ``fmt``; never raises for a bad file."""
    if fmt == "zip":
        fmt = _zip_kind(path) or "zip"
    out = Extracted(fmt)
    budget = _Budget(max_chars, timeout)
    reader = {
        "pdf": _pdf,
        "docx": _docx,
        "xlsx": _xlsx,
        "xls": _xls,
        "doc": _doc,
    }.get(fmt)
    if reader is None:
        out.status, out.detail = UNREADABLE, f"unknown format {fmt}"
        return out
    try:
        for piece in reader(path, budget, out):
            if piece.text.strip():
                out.pieces.append(piece)
            if budget.full:
                out.detail = f"text cut at {max_chars} characters"
                break
    except _Stop as stop:
        out.status, out.detail = stop.status, stop.detail
    except Exception as exc:  # damaged files raise anything
        log.debug("cannot read %s as %s: %s", path, fmt, exc)
        out.status, out.detail = UNREADABLE, f"{type(exc).__name__}: {exc}"[:300]
    if out.status == OK and fmt == "pdf" and not out.pieces and not out.detail:
        out.status, out.detail = SCANNED, "no text layer"
    return out


def _zip_kind(path: Path) -> str | None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


_GAPS = re.compile(r"[ \u3000]{2,}")
_INDENT = re.compile(r"(?m)^[ \u3000]+")


def _pdf(path: Path, budget: _Budget, out: Extracted) -> Iterator[Piece]:
    """pdftotext (C++, outside the GIL, ~5x faster than pypdf on CJK), else pypdf."""
    exe = shutil.which("pdftotext")
    if exe is not None:
        left = max(1.0, budget.deadline - time.monotonic())
        try:
            done = subprocess.run(
                [exe, "-layout", "-enc", "UTF-8", "-q", str(path), "-"],
                capture_output=True,
                timeout=left,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise _Stop(TIMEOUT, "pdftotext took too long") from exc
        if done.returncode == 0:
            pages = done.stdout.decode("utf-8", "replace").split("\f")
            if pages and not pages[-1].strip():
                pages.pop()  # pdftotext ends every page with a form feed
            for number, page in enumerate(pages, 1):
                # -layout keeps a table row on one line; its column gaps become tabs, as
                # the cells of a sheet or a Word table are.
                text = _GAPS.sub("\t", _INDENT.sub("", page))
                budget.take(len(text))
                yield Piece(f"第{number}页", text[: max(0, budget.left + len(text))])
                if budget.full:
                    return
            return
    yield from _pypdf(path, budget)


def _pypdf(path: Path, budget: _Budget) -> Iterator[Piece]:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            reader.decrypt("")
        except Exception as exc:
            raise _Stop(UNREADABLE, "encrypted PDF") from exc
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text() or ""
        budget.take(len(text))
        yield Piece(f"第{number}页", text)


def _docx(path: Path, budget: _Budget, out: Extracted) -> Iterator[Piece]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(str(path))
    parts: list[str] = []
    spans: list[tuple[int, str]] = []
    offset = 0
    tables = 0

    def add(text: str, where: str) -> None:
        nonlocal offset
        spans.append((offset, where))
        parts.append(text)
        offset += len(text)
        budget.take(len(text))

    paragraph_no = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            paragraph_no += 1
            add(block.text + "\n", f"第{paragraph_no}段")
        elif isinstance(block, Table):
            tables += 1
            for r, row in enumerate(block.rows, 1):
                for c, cell in enumerate(row.cells, 1):
                    add(cell.text.replace("\n", " ") + "\t", f"表格{tables}第{r}行第{c}列")
                add("\n", f"表格{tables}第{r}行")
        if budget.full:
            break
    yield Piece("正文", "".join(parts), spans)


def _cell_name(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


def _sheet_piece(name: str, rows: Iterator[list[object]], budget: _Budget) -> Piece:
    parts: list[str] = []
    spans: list[tuple[int, str]] = []
    offset = 0
    for r, row in enumerate(rows):
        line_has = False
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            text = str(value).replace("\n", " ")
            spans.append((offset, f"{name}!{_cell_name(r, c)}"))
            parts.append(text + "\t")
            offset += len(text) + 1
            line_has = True
        if line_has:
            parts.append("\n")
            offset += 1
            budget.take(0)
        if offset > budget.left:
            break
    budget.take(offset)
    return Piece(f"工作表“{name}”", "".join(parts), spans)


def _xlsx(path: Path, budget: _Budget, out: Extracted) -> Iterator[Piece]:
    from openpyxl import load_workbook

    with open(path, "rb") as fh:  # a file object: openpyxl refuses names without .xlsx
        wb = load_workbook(fh, read_only=True, data_only=True)
        try:
            for ws in wb.worksheets:
                rows = (list(r) for r in ws.iter_rows(values_only=True))
                yield _sheet_piece(ws.title, rows, budget)
        finally:
            wb.close()


def _xls(path: Path, budget: _Budget, out: Extracted) -> Iterator[Piece]:
    import xlrd

    book = xlrd.open_workbook(str(path), on_demand=True)
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = (sheet.row_values(r) for r in range(sheet.nrows))
            yield _sheet_piece(sheet.name, rows, budget)
            book.unload_sheet(index)
    finally:
        book.release_resources()


#: antiword dies by a signal on some files at random (it reads past a buffer, and where that
#: lands depends on address randomisation: 79 of 200 runs on one test file segfaulted, the
#: others read it whole), so a run killed by a signal is repeated before catdoc is tried
#: (catdoc read that file only in part).
SIGNAL_RETRIES = 12


def _run_reader(tool: str, cmd: list[str], budget: _Budget) -> subprocess.CompletedProcess[bytes]:
    """Run a document reader within the budget's time; again while a signal kills it."""
    for attempt in range(1, SIGNAL_RETRIES + 1):
        left = max(1.0, budget.deadline - time.monotonic())
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=left, check=False)
        except subprocess.TimeoutExpired as exc:
            raise _Stop(TIMEOUT, f"{tool} took too long") from exc
        if done.returncode >= 0 or time.monotonic() >= budget.deadline:
            return done
        log.debug("%s killed by signal %d (attempt %d)", tool, -done.returncode, attempt)
    return done


def _doc(path: Path, budget: _Budget, out: Extracted) -> Iterator[Piece]:
    text = ""
    errors = []
    for tool, args in (
        ("antiword", ["-m", "UTF-8.txt", "-w", "0"]),
        ("catdoc", ["-d", "utf-8", "-w"]),
    ):
        exe = shutil.which(tool)
        if exe is None:
            errors.append(f"{tool} not installed")
            continue
        done = _run_reader(tool, [exe, *args, str(path)], budget)
        text = done.stdout.decode("utf-8", "replace")
        if done.returncode == 0 and text.strip():
            break
        errors.append(f"{tool} exit {done.returncode}: {done.stderr[:120]!r}")
        text = ""
    if not text.strip():
        raise _Stop(UNREADABLE, "; ".join(errors) or "no text")
    text = text[: max(0, budget.left)]
    budget.take(len(text))
    yield Piece("正文", text)
