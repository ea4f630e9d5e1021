"""What a download may cost: transfers stopped early, bodies inflated up to a bound.

:class:`DownloadLimits` (the spider connects it to Scrapy's headers_received and
bytes_received signals) stops a link check once its status and headers are in, an
attachment behind a page-like URL at its headers, and a page's transfer at
``crawl.max_page_bytes`` (marked truncated).

:class:`BoundedDecompressionMiddleware` replaces Scrapy's HttpCompressionMiddleware, which inflates a body whole (with
``DOWNLOAD_MAXSIZE`` 0) or drops the response once the bound is passed. Here a body is
inflated in 64 KiB steps up to a bound and cut there: a page keeps its first
``crawl.max_page_bytes`` decompressed bytes and is marked truncated (``ga_truncated``,
``ga_truncated_reason`` = ``"decompressed"`` in the request meta), as a page whose
transfer was over the limit is. A gzip bomb (2 MB inflating to 2 GiB) costs at most the
bound in memory.

The bound of a request is ``request.meta["ga_max_body"]`` (the spider sets it: the page
limit for pages, a small one for link checks, which read at most a title); other requests
(robots.txt, the sitemap) use ``GOVAUDIT_MAX_DECOMPRESSED``.
"""

from __future__ import annotations

import zlib
from io import BytesIO
from typing import Any

from scrapy.exceptions import StopDownload
from scrapy.http import Request, Response

ACCEPT_ENCODING = b"gzip, deflate, br, zstd"
_SUPPORTED = {b"gzip", b"x-gzip", b"deflate", b"br", b"zstd"}
_CHUNK = 65536


def is_html(content_type: str) -> bool:
    ct = content_type.lower()
    return not ct or "html" in ct or "xml" in ct and "xhtml" in ct


class DownloadLimits:
    """Signal handlers that stop downloads early (``ga_kind`` is "page" or "check")."""

    def __init__(self, max_page_bytes: int) -> None:
        self.max_page_bytes = max_page_bytes

    def on_headers(self, headers: Any, body_length: int, request: Request, spider: Any) -> None:
        kind = request.meta.get("ga_kind")
        if kind == "check" and request.method == "GET":
            ctype = (headers.get(b"Content-Type") or b"").decode("latin-1").lower()
            if "html" not in ctype or body_length > 262_144:
                raise StopDownload(fail=False)  # status and headers are all we need
        elif kind == "page":
            ctype = (headers.get(b"Content-Type") or b"").decode("latin-1")
            if not is_html(ctype):
                raise StopDownload(fail=False)  # an attachment behind a page-like URL

    def on_bytes(self, data: bytes, request: Request, spider: Any) -> None:
        meta = request.meta
        kind = meta.get("ga_kind")
        got = meta.get("ga_bytes", 0) + len(data)
        meta["ga_bytes"] = got
        if kind == "page" and got > self.max_page_bytes:
            meta["ga_truncated"] = True
            raise StopDownload(fail=False)
        if kind == "check" and got > 65_536:
            raise StopDownload(fail=False)


class DecompressionError(Exception):
    """The body is not valid data of its Content-Encoding and nothing could be decoded."""


def _zlib(data: bytes, limit: int, wbits: int) -> tuple[bytes, bool]:
    out = bytearray()
    d = zlib.decompressobj(wbits)
    buf = data
    while True:
        try:
            chunk = d.decompress(buf, min(_CHUNK, limit - len(out) + 1))
        except zlib.error as exc:
            if out:
                break  # keep what was decoded (a damaged or cut stream)
            raise DecompressionError(str(exc)) from exc
        out += chunk
        if len(out) > limit:
            del out[limit:]
            return bytes(out), True
        if d.eof:
            rest = d.unused_data
            if wbits & 32 and rest[:2] == b"\x1f\x8b":  # another gzip member
                d, buf = zlib.decompressobj(wbits), rest
                continue
            break
        buf = d.unconsumed_tail
        if not chunk and not buf:
            break  # the input ended before the stream did: keep what there is
    return bytes(out), False


def _brotli(data: bytes, limit: int) -> tuple[bytes, bool]:
    try:
        import brotli
    except ImportError:  # pragma: no cover - scrapy depends on a brotli package
        import brotlicffi as brotli  # type: ignore[no-redef]
    d = brotli.Decompressor()
    out = bytearray()
    try:
        chunk = d.process(data, output_buffer_limit=_CHUNK)
        while True:
            out += chunk
            if len(out) > limit:
                del out[limit:]
                return bytes(out), True
            if d.is_finished() or not chunk:
                break
            chunk = d.process(b"", output_buffer_limit=_CHUNK)
    except brotli.error as exc:
        if not out:
            raise DecompressionError(str(exc)) from exc
    return bytes(out), False


def _zstd(data: bytes, limit: int) -> tuple[bytes, bool]:
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    reader = zstd.ZstdFile(BytesIO(data))
    out = bytearray()
    while True:
        try:
            chunk = reader.read(min(_CHUNK, limit - len(out) + 1))
        except EOFError:
            break  # a cut stream: keep what there is
        except zstd.ZstdError as exc:
            if not out:
                raise DecompressionError(str(exc)) from exc
            break
        if not chunk:
            break
        out += chunk
        if len(out) > limit:
            del out[limit:]
            return bytes(out), True
    return bytes(out), False


def decompress(data: bytes, encoding: bytes, limit: int) -> tuple[bytes, bool]:
    """``data`` decoded from one Content-Encoding, at most ``limit`` bytes: (body, cut)."""
    if encoding in (b"gzip", b"x-gzip"):
        return _zlib(data, limit, 32 + 15)  # gzip or zlib header, detected
    if encoding == b"deflate":
        try:
            return _zlib(data, limit, 15)
        except DecompressionError:
            return _zlib(data, limit, -15)  # raw deflate, as some servers send
    if encoding == b"br":
        return _brotli(data, limit)
    if encoding == b"zstd":
        return _zstd(data, limit)
    raise ValueError(f"unsupported encoding {encoding!r}")


def split_encodings(values: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """(encodings to decode, outermost first; encodings left as they are)."""
    keep = [e.strip().lower() for v in values for e in v.split(b",") if e.strip()]
    decode: list[bytes] = []
    while keep and keep[-1] in _SUPPORTED:
        decode.append(keep.pop())
    return decode, keep


class BoundedDecompressionMiddleware:
    """Downloader middleware: Accept-Encoding out, bounded decompression in."""

    def __init__(self, default_limit: int) -> None:
        self.default_limit = default_limit

    @classmethod
    def from_crawler(cls, crawler: Any) -> BoundedDecompressionMiddleware:
        return cls(crawler.settings.getint("GOVAUDIT_MAX_DECOMPRESSED", 50_000_000))

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.headers.setdefault(b"Accept-Encoding", ACCEPT_ENCODING)

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if request.method == "HEAD":
            return response
        values = response.headers.getlist(b"Content-Encoding")
        if not values:
            return response
        decode, keep = split_encodings(values)
        if not decode:
            return response
        limit = int(request.meta.get("ga_max_body") or self.default_limit)
        body = response.body
        cut = False
        for encoding in decode:
            body, layer_cut = decompress(body, encoding, limit)
            cut = cut or layer_cut
        if cut:
            request.meta["ga_truncated"] = True
            request.meta["ga_truncated_reason"] = "decompressed"
            request.meta["ga_compressed_bytes"] = len(response.body)
        response = response.replace(body=body)
        if keep:
            response.headers[b"Content-Encoding"] = b", ".join(keep)
        else:
            del response.headers[b"Content-Encoding"]
        return response
