"""Decode page bytes to text without mojibake.

Chinese government pages are often GBK/GB2312/GB18030, sometimes with a wrong or
missing declaration. Order of trust: a BOM; strict UTF-8 (which almost never
succeeds by accident on non-ASCII text); the declared charset (header, then <meta>),
with GBK/GB2312 widened to GB18030; strict GB18030; charset-normalizer's guess; and
finally the declared charset with replacement characters. Truncated pages may end in
half a character, so decoding tolerates an incomplete trailing sequence.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META_RE = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-]+)""", re.IGNORECASE | re.DOTALL
)
_HEADER_RE = re.compile(r"charset\s*=\s*[\"']?([a-zA-Z0-9_\-]+)", re.IGNORECASE)

#: Declarations that name a subset of GB18030: decode with the superset.
_GB_FAMILY = {"gbk", "gb2312", "gb_2312", "gb_2312-80", "gb18030", "cp936", "x-gbk", "euc-cn"}
#: Single-byte declarations decode anything, so they prove nothing about CJK bytes.
_SINGLE_BYTE = {codecs.lookup(n).name for n in ("latin-1", "cp1252", "ascii", "iso-8859-15")}


def header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_RE.search(content_type)
    return m.group(1).lower() if m else None


def meta_charset(body: bytes) -> str | None:
    m = _META_RE.search(body[:4096])
    return m.group(1).decode("ascii", "ignore").lower() if m else None


def _normal(name: str | None) -> str | None:
    if not name:
        return None
    name = name.lower()
    if name in _GB_FAMILY:
        return "gb18030"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _strict(body: bytes, encoding: str) -> str | None:
    """Strict decode that tolerates an incomplete multi-byte sequence at the very end."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        return decoder.decode(body, final=False)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return (text, encoding used) for an HTML body."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            text = _strict(body[len(bom) :], enc)
            if text is not None:
                return text, enc
    if body.isascii():
        return body.decode("ascii"), _normal(
            header_charset(content_type) or meta_charset(body)
        ) or "ascii"
    text = _strict(body, "utf-8")
    if text is not None:
        return text, "utf-8"
    declared = [_normal(header_charset(content_type)), _normal(meta_charset(body))]
    for enc in declared:
        if enc and enc not in ("utf-8",) and enc not in _SINGLE_BYTE:
            text = _strict(body, enc)
            if text is not None:
                return text, enc
    text = _strict(body, "gb18030")
    if text is not None:
        return text, "gb18030"
    best = from_bytes(body[:200_000]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace"), best.encoding
    enc = next((e for e in declared if e), "utf-8")
    return body.decode(enc, errors="replace"), enc
