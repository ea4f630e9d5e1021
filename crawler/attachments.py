"""Attachment downloads for the text layer: one file, streamed to disk, bounded in bytes and time.

Connects through the run's core.dns.Resolver (so ``--resolve`` and ``--dns-server`` work),
refuses non-public addresses other than the site's own and the ``--resolve`` targets, and
counts bytes after decompression. Knows nothing of the store, the audits or the text inside.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from core.config import Config
from core.dns import DnsFailure, Resolver, is_ip
from crawler.guard import AddressPolicy

CHUNK = 64 * 1024
MAX_REDIRECTS = 5

#: Outcome statuses (the same words core.doctext uses for a file that was not read).
OK = "ok"
TOO_LARGE = "too_large"
TIMEOUT = "timeout"
FETCH_FAILED = "fetch_failed"
REFUSED = "refused"


@dataclass
class Fetched:
    url: str
    status: str  # ok | too_large | timeout | fetch_failed | refused
    final_url: str = ""
    content_type: str = ""
    size: int = 0  # bytes written (after decompression)
    detail: str = ""
    head: bytes = b""  # the first bytes, for sniffing the format


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        return remaining


class Downloader:
    """Downloads attachments one at a time per call; safe to share between threads."""

    def __init__(self, config: Config, resolver: Resolver) -> None:
        self.resolver = resolver
        self.policy = AddressPolicy.for_site(config, resolver)
        self.max_bytes = config.attachments.max_bytes
        self.timeout = config.attachments.timeout
        self.verify_tls = config.crawl.verify_tls
        contact = f"; {config.crawl.contact}" if config.crawl.contact else ""
        self.user_agent = f"Mozilla/5.0 (compatible; govaudit{contact})"

    def fetch(self, url: str, out: BinaryIO) -> Fetched:
        """Write the body of ``url`` (following redirects) to ``out``; never raises."""
        deadline = _Deadline(self.timeout)
        current = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                result, location = self._one(current, out, deadline)
                if location is None:
                    result.url = url
                    result.final_url = current
                    return result
                current = urljoin(current, location)
            return Fetched(url, FETCH_FAILED, detail="too many redirects")
        except TimeoutError:
            return Fetched(url, TIMEOUT, final_url=current, detail=f"over {self.timeout:g}s")
        except _Refused as exc:
            return Fetched(url, REFUSED, final_url=current, detail=str(exc))
        except (OSError, http.client.HTTPException, DnsFailure, ValueError, zlib.error) as exc:
            return Fetched(
                url, FETCH_FAILED, final_url=current, detail=f"{type(exc).__name__}: {exc}"
            )

    def _address(self, host: str, port: int) -> str:
        if is_ip(host):
            addresses = [host.strip("[]")]
        else:
            addresses = (
                self.resolver.lookup(host, 4, port).addresses
                or self.resolver.lookup(host, 6, port).addresses
            )
        if not addresses:
            raise DnsFailure(host, "no address")
        for address in addresses:
            if self.policy.permits(address):
                return address
        raise _Refused(f"{host} resolves to {addresses[0]} (not a public address)")

    def _one(self, url: str, out: BinaryIO, deadline: _Deadline) -> tuple[Fetched, str | None]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _Refused(f"scheme {parts.scheme!r} not fetched")
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._address(host, port)
        conn = _connection(parts.scheme, host, port, address, deadline.left(), self.verify_tls)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", parts.netloc.rsplit("@", 1)[-1])
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Accept-Encoding", "gzip, deflate")
            conn.putheader("Connection", "close")
            conn.endheaders()
            response = conn.getresponse()
            if response.status in (301, 302, 303, 307, 308) and response.getheader("Location"):
                return Fetched(url, OK), response.getheader("Location")
            ctype = response.getheader("Content-Type") or ""
            if response.status != 200:
                return Fetched(
                    url, FETCH_FAILED, content_type=ctype, detail=f"HTTP {response.status}"
                ), None
            declared = response.getheader("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                return Fetched(url, TOO_LARGE, content_type=ctype, detail=f"{declared} bytes"), None
            return self._body(url, response, conn.sock, out, deadline, ctype), None
        finally:
            conn.close()

    def _body(
        self,
        url: str,
        response: http.client.HTTPResponse,
        sock: socket.socket | None,
        out: BinaryIO,
        deadline: _Deadline,
        ctype: str,
    ) -> Fetched:
        encoding = (response.getheader("Content-Encoding") or "").lower().strip()
        inflate = None
        if encoding in ("gzip", "x-gzip"):
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            inflate = zlib.decompressobj()
        size = 0
        head = b""
        while True:
            if sock is not None:
                sock.settimeout(deadline.left())  # a server dripping bytes still ends here
            chunk = response.read1(CHUNK)
            if not chunk:
                break
            pieces = [chunk]
            if inflate is not None:
                # Never inflate more than the budget left, plus one byte to notice the excess.
                pieces = []
                data = chunk
                while data:
                    part = inflate.decompress(data, self.max_bytes - size + 1)
                    pieces.append(part)
                    size_now = size + sum(len(p) for p in pieces)
                    if size_now > self.max_bytes:
                        break
                    data = inflate.unconsumed_tail
            for part in pieces:
                size += len(part)
                if size > self.max_bytes:
                    return Fetched(
                        url,
                        TOO_LARGE,
                        content_type=ctype,
                        size=size,
                        detail=f"over {self.max_bytes} bytes",
                    )
                if len(head) < 2048:
                    head += part[: 2048 - len(head)]
                out.write(part)
        return Fetched(url, OK, content_type=ctype, size=size, head=head)


class _Refused(Exception):
    pass


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(
        self, host: str, port: int, address: str, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address
        self.context = context

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.context.wrap_socket(sock, server_hostname=self.host)


def _connection(
    scheme: str, host: str, port: int, address: str, timeout: float, verify: bool
) -> http.client.HTTPConnection:
    if scheme == "https":
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return _PinnedHTTPS(host, port, address, timeout, context)
    return _PinnedHTTP(host, port, address, timeout)


def download(downloader: Downloader, url: str, path: Path) -> Fetched:
    """Download ``url`` to ``path`` (created or truncated)."""
    with open(path, "wb") as out:
        return downloader.fetch(url, out)
