"""Test fixtures: attachments in every format govaudit reads, generated from text.

PDF (hand-written, a Type0 font with a ToUnicode map, or an image-only "scanned" page),
DOCX (python-docx), XLSX (openpyxl), XLS (xlwt) and Word 97 DOC (a hand-built compound
file with one Unicode piece, enough for antiword). Nothing here knows about audits.
"""

from __future__ import annotations

import io
import struct
import zlib

# -- PDF ---------------------------------------------------------------------------------


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data)
    return (
        b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra)
        + packed
        + b"\nendstream"
    )


def make_pdf(pages: list[str]) -> bytes:
    """A text PDF: each page's lines drawn with a CID font whose codes are Unicode code points."""
    chars = sorted({ord(c) for text in pages for c in text if c != "\n"} | {0x20})
    cmap_lines = []
    for i in range(0, len(chars), 100):
        block = chars[i : i + 100]
        cmap_lines.append(f"{len(block)} beginbfchar")
        cmap_lines += [f"<{c:04X}> <{c:04X}>" for c in block]
        cmap_lines.append("endbfchar")
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + "\n".join(cmap_lines)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
    ).encode()
    n = len(pages)
    # 1 catalog, 2 pages, 3 font, 4 descendant, 5 tounicode, then (page, content) pairs
    kids = " ".join(f"{6 + 2 * i} 0 R" for i in range(n)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 5 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        _stream(cmap),
    ]
    for i, text in enumerate(pages):
        lines = text.split("\n")
        # Table rows (cells split by tabs) are drawn as real PDFs draw them: each cell at
        # its column's x position (every glyph is 10 pt wide at 10 pt: DW 1000).
        widths: dict[int, int] = {}
        for line in lines:
            for c, cell in enumerate(line.split("\t")):
                widths[c] = max(widths.get(c, 0), len(cell))
        ops = []
        y = 800
        for line in lines:
            x = 40
            for c, cell in enumerate(line.split("\t")):
                hexed = "".join(f"{ord(ch):04X}" for ch in cell).encode()
                ops.append(b"BT /F1 10 Tf 1 0 0 1 %d %d Tm <%s> Tj ET" % (x, y, hexed))
                x += widths[c] * 10 + 30
            y -= 14
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>"
            % (max(595, x + 40), 7 + 2 * i)
        )
        objects.append(_stream(b"\n".join(ops)))
    return _pdf(objects)


def make_scanned_pdf(pages: int = 2) -> bytes:
    """An image-only PDF (what a scanner makes): no text at all."""
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
    ]
    for i in range(pages):
        base = 3 + 3 * i
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>"
            % (base + 1, base + 2)
        )
        pixels = bytes(range(256)) * 64  # 128x128 grey
        objects.append(
            _stream(
                pixels,
                b"/Type /XObject /Subtype /Image /Width 128 /Height 128 "
                b"/ColorSpace /DeviceGray /BitsPerComponent 8 ",
            )
        )
        objects.append(_stream(b"q 500 0 0 700 40 80 cm /Im1 Do Q"))
    return _pdf(objects)


# -- DOCX / XLSX / XLS --------------------------------------------------------------------


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_xlsx(sheets: dict[str, list[list[str]]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def make_xls(sheets: dict[str, list[list[str]]]) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- Word 97 DOC ---------------------------------------------------------------------------

_SECTOR = 512
_FREESECT, _ENDOFCHAIN, _FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def _cfb(streams: dict[str, bytes]) -> bytes:
    """A minimal compound file: every stream ≥ 4096 bytes (so no mini stream), one FAT sector."""
    names = list(streams)
    data = b""
    starts: dict[str, int] = {}
    chains: list[int] = []
    for name in names:
        body = streams[name]
        assert len(body) >= 4096
        body += b"\0" * (-len(body) % _SECTOR)
        first = len(data) // _SECTOR
        count = len(body) // _SECTOR
        starts[name] = first
        chains += [first + i + 1 for i in range(count - 1)] + [_ENDOFCHAIN]
        data += body
    dir_sector = len(data) // _SECTOR
    fat_sector = dir_sector + 1
    chains += [_ENDOFCHAIN, _FATSECT]
    assert len(chains) <= 128
    fat = struct.pack("<128I", *(chains + [_FREESECT] * (128 - len(chains))))

    def entry(
        name: str, kind: int, start: int, size: int, child: int, left: int, right: int
    ) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (
            raw.ljust(64, b"\0")
            + struct.pack("<HBB3I", len(raw), kind, 1, left, right, child)
            + b"\0" * 16  # clsid
            + b"\0" * 4  # state bits
            + b"\0" * 16  # times
            + struct.pack("<IQ", start, size)
        )

    nostream = 0xFFFFFFFF
    # Root's child is entry 1; siblings chained to the right (names of equal length are
    # compared by UTF-16 upper case; antiword and olefile do not require a balanced tree).
    entries = [entry("Root Entry", 5, _ENDOFCHAIN, 0, 1, nostream, nostream)]
    for i, name in enumerate(names, 1):
        right = i + 1 if i < len(names) else nostream
        entries.append(entry(name, 2, starts[name], len(streams[name]), nostream, nostream, right))
    directory = b"".join(entries).ljust(_SECTOR, b"\0")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, dir_sector, 0, 4096, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0)
        + struct.pack("<I", fat_sector)
        + struct.pack("<108I", *([_FREESECT] * 108))
    )
    assert len(header) == 512
    return header + data + directory + fat


def make_doc(text: str) -> bytes:
    """A Word 97 document holding ``text`` (paragraphs split on newlines) as one Unicode piece."""
    body = text.replace("\n", "\r") + "\r"
    encoded = body.encode("utf-16-le")
    fc_text = 0x800  # text starts after the FIB, sector-aligned
    ccp = len(body)
    fib_base = struct.pack(
        "<HHHHHHHIBBHHII",
        0xA5EC,  # wIdent
        0x00C1,  # nFib (Word 97)
        0,
        0x0804,  # lid: zh-CN
        0,  # pnNext
        0x1200,  # flags: fWhichTblStm = 1 (1Table), fExtChar
        0x00BF,  # nFibBack
        0,  # lKey
        0,  # envr
        0,  # flags
        0,
        0,
        fc_text,  # fcMin (Word 6 field, read by catdoc)
        fc_text + len(encoded),  # fcMac
    )
    fib_base = fib_base.ljust(32, b"\0")
    fib_rg_w = b"\0" * 28
    lw = [0] * 22
    lw[0] = fc_text + len(encoded)  # cbMac
    lw[3] = ccp  # ccpText
    fib_rg_lw = struct.pack("<22I", *lw)
    pairs = [(0, 0)] * 93
    # Clx: one Pcdt with a PlcPcd of one piece (CP 0 .. ccp), Unicode text at fc_text
    pcd = struct.pack("<HIH", 0, fc_text, 0)
    plc = struct.pack("<II", 0, ccp) + pcd
    clx = b"\x02" + struct.pack("<I", len(plc)) + plc
    pairs[33] = (0, len(clx))  # fcClx, lcbClx
    fib_rg_fclcb = b"".join(struct.pack("<II", fc, lcb) for fc, lcb in pairs)
    fib = (
        fib_base
        + struct.pack("<H", 14)
        + fib_rg_w
        + struct.pack("<H", 22)
        + fib_rg_lw
        + struct.pack("<H", 93)
        + fib_rg_fclcb
        + struct.pack("<H", 0)
    )
    word = fib.ljust(fc_text, b"\0") + encoded
    # Whole sectors: catdoc reads a stream sector by sector and drops a partial last one.
    word = word.ljust(max(4096, len(word) + (-len(word) % 512)), b"\0")
    table = clx.ljust(4096, b"\0")
    return _cfb({"WordDocument": word, "1Table": table})
