"""Network probes pinned to one IP family: TCP connect, HTTP(S) GET, DNS server queries.

The IPv6 audit asks "does this URL answer over IPv6 as it does over IPv4?". Ordinary
HTTP clients pick the family themselves (happy eyeballs), so here the address is chosen
first, through the run's :class:`core.dns.Resolver`, and the socket is connected to
that address while the request carries the real ``Host`` header (and, for HTTPS, SNI and
certificate verification against the host name).

Every probe has a short timeout and a deadline, and returns a typed outcome
(:class:`core.snapshot.LinkStatus`) with timings instead of raising.
"""

from __future__ import annotations

import errno
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from core import __version__
from core.dns import Resolver
from core.snapshot import LinkStatus, StatusKind

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEAD_AFTER_TIMEOUTS = 3  # requests timed out on one address:port before it is given up
HTML_TYPES = ("text/html", "application/xhtml+xml")
_UNREACHABLE_ERRNOS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.EADDRNOTAVAIL: "address not available",
    errno.EAFNOSUPPORT: "address family not supported",
}


def family_name(family: int) -> str:
    return "IPv6" if family == 6 else "IPv4"


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


def is_usable_ipv6(address: str) -> bool:
    """False for IPv4-mapped AAAA values (::ffff:a.b.c.d): they are not IPv6 connectivity."""
    try:
        return ipaddress.IPv6Address(address).ipv4_mapped is None
    except ValueError:
        return False


def classify(exc: BaseException) -> LinkStatus:
    """The typed outcome of a network exception."""
    detail = f"{type(exc).__name__}: {exc}".strip()
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return LinkStatus(StatusKind.TLS_ERROR, detail=detail)
    if isinstance(exc, TimeoutError | socket.timeout):
        return LinkStatus(StatusKind.TIMEOUT, detail=detail)
    if isinstance(exc, ConnectionRefusedError):
        return LinkStatus(StatusKind.CONNECTION_REFUSED, detail=detail)
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return LinkStatus(StatusKind.CONNECTION_RESET, detail=detail)
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE_ERRNOS:
        return LinkStatus(StatusKind.ERROR, detail=f"{_UNREACHABLE_ERRNOS[exc.errno]} ({detail})")
    return LinkStatus(StatusKind.ERROR, detail=detail)


@dataclass
class Timings:
    """Milliseconds per phase of one request; None when the phase was not reached."""

    dns_ms: float | None = None
    connect_ms: float | None = None
    tls_ms: float | None = None
    first_byte_ms: float | None = None  # request sent → status line and headers read
    total_ms: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {
            "dns_ms": self.dns_ms,
            "connect_ms": self.connect_ms,
            "tls_ms": self.tls_ms,
            "first_byte_ms": self.first_byte_ms,
            "total_ms": self.total_ms,
        }


@dataclass
class TcpResult:
    address: str
    port: int
    status: LinkStatus
    connect_ms: float | None = None

    @property
    def ok(self) -> bool:
        return self.status.is_ok


def tcp_connect(address: str, port: int, timeout: float) -> TcpResult:
    """Open (and close) a TCP connection to ``address``:``port``."""
    start = time.perf_counter()
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return TcpResult(address, port, LinkStatus(StatusKind.OK), _ms(start))
    except OSError as exc:
        return TcpResult(address, port, classify(exc), _ms(start))


@dataclass
class HttpResult:
    """The answer to a GET of ``url`` over one family, after following redirects."""

    url: str
    family: int
    status: LinkStatus  # OK, HTTP_ERROR(code) or the transport error
    code: int | None = None
    final_url: str = ""
    address: str | None = None  # the address that answered the last hop
    port: int | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    content_type: str = ""
    body: bytes = b""  # HTML bodies only, capped; kept only when asked (memory stays flat)
    size: int = 0  # bytes of body read
    digest: Any = None  # what the fetcher's ``digest`` made of an HTML body (a simhash …)
    truncated: bool = False
    timings: Timings = field(default_factory=Timings)  # of the first hop
    tls_verified: bool | None = None  # None: no HTTPS; False: certificate did not verify
    tls_problem: str = ""  # why it did not verify
    location: str = ""  # Location header of a single hop (internal)

    @property
    def answered(self) -> bool:
        """A server answered with an HTTP status (whatever it was)."""
        return self.code is not None

    @property
    def ok(self) -> bool:
        return self.code is not None and self.code < 400

    @property
    def is_html(self) -> bool:
        return self.content_type.split(";")[0].strip().lower() in HTML_TYPES

    def text(self) -> str:
        """The body decoded with its declared charset (UTF-8, then GB18030, as fallback)."""
        charset = ""
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip("\"'")
        for enc in (charset, "utf-8", "gb18030"):
            if not enc:
                continue
            try:
                return self.body.decode(enc)
            except (LookupError, UnicodeDecodeError):
                continue
        return self.body.decode("utf-8", errors="replace")

    def describe(self) -> str:
        """Chinese one-line outcome, e.g. 'HTTP 200' or '连接被拒绝'."""
        if self.code is not None:
            return f"HTTP {self.code}"
        return self.status.describe()


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTPConnection whose socket goes to a chosen address, whatever ``host`` resolves to."""

    def __init__(self, host: str, port: int, address: str, timeout: float, t: Timings) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._timings = t

    def _tcp(self) -> socket.socket:
        start = time.perf_counter()
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._timings.connect_ms = _ms(start)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = self._tcp()


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def __init__(
        self,
        host: str,
        port: int,
        address: str,
        timeout: float,
        t: Timings,
        context: ssl.SSLContext,
    ) -> None:
        super().__init__(host, port, address, timeout, t)
        self._ssl = context

    def connect(self) -> None:
        sock = self._tcp()
        start = time.perf_counter()
        try:
            self.sock = self._ssl.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self._timings.tls_ms = _ms(start)


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    path = quote(parts.path or "/", safe="/%:@&=+$,;~!*'()[]")
    query = quote(parts.query, safe="/%:@&=+$,;~!*'()[]?")
    return path + (f"?{query}" if query else "")


def _ascii_host(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


class FamilyFetcher:
    """GETs URLs over a chosen family. Each (URL, family) is fetched at most once per run.

    Thread-safe: concurrent callers asking for the same (URL, family) wait for the one
    fetch in flight instead of starting another.
    """

    def __init__(
        self,
        resolver: Resolver,
        timeout: float = 5.0,
        verify_tls: bool = True,
        tls_fallback: bool = False,
        max_body: int = 2_000_000,
        max_redirects: int = 5,
        user_agent: str = f"govaudit/{__version__}",
        ca_file: str | None = None,
        digest: Callable[[HttpResult], Any] | None = None,
    ) -> None:
        self.resolver = resolver
        self.timeout = timeout
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self.digest = digest
        self.ssl_context = ssl.create_default_context()
        if ca_file:  # in addition to the system's CAs (a bureau's internal CA)
            self.ssl_context.load_verify_locations(cafile=ca_file)
        self.verify_tls = verify_tls
        # With tls_fallback a certificate that does not verify is noted (tls_verified=False)
        # and the request goes on unverified, so both families can still be compared.
        self.tls_fallback = tls_fallback
        self.insecure_context = ssl.create_default_context()
        self.insecure_context.check_hostname = False
        self.insecure_context.verify_mode = ssl.CERT_NONE
        if not verify_tls:
            self.ssl_context = self.insecure_context
        self._lock = threading.Lock()
        self._hops: dict[tuple[str, int], Future[HttpResult]] = {}
        self._results: dict[tuple[str, int], Future[HttpResult]] = {}
        self.requests_made = 0  # for tests and progress: real network requests
        self._dead: dict[tuple[str, int], LinkStatus] = {}
        self._timeouts: dict[tuple[str, int], int] = {}

    # ---- public -----------------------------------------------------------------
    def forget(self, resolver: Resolver | None = None) -> None:
        """Drop every remembered answer (a monitor probing the same URL again and again
        keeps one fetcher: building its TLS contexts costs ~150 ms of CPU)."""
        with self._lock:
            self._hops.clear()
            self._results.clear()
            self._dead.clear()
            self._timeouts.clear()
        if resolver is not None:
            self.resolver = resolver

    def fetch(self, url: str, family: int, keep_body: bool = False) -> HttpResult:
        """GET ``url`` over ``family`` (4 or 6), following redirects over the same family.

        HTML bodies are reduced to ``digest`` and dropped unless ``keep_body``; a URL is
        fetched once, so ask for the body the first time (the homepage is fetched first).
        """
        return self._once(
            self._results, (url, family), lambda: self._follow(url, family, keep_body)
        )

    # ---- internals ----------------------------------------------------------------
    def _once(
        self,
        table: dict[tuple[str, int], Future[HttpResult]],
        key: tuple[str, int],
        compute: Callable[[], HttpResult],
    ) -> HttpResult:
        with self._lock:
            fut = table.get(key)
            owner = fut is None
            if fut is None:
                fut = table[key] = Future()
        if not owner:
            return fut.result()
        try:
            result = compute()
        except Exception as exc:  # never leave waiters hanging
            result = HttpResult(key[0], key[1], classify(exc))
        fut.set_result(result)
        return result

    def _follow(self, url: str, family: int, keep_body: bool) -> HttpResult:
        hops: list[HttpResult] = []
        chain: list[tuple[int, str]] = []
        seen = {url}
        current = url
        for _ in range(self.max_redirects + 1):
            hop = self._once(
                self._hops, (current, family), lambda u=current: self._get(u, family, keep_body)
            )
            hops.append(hop)
            if hop.code in REDIRECT_CODES and hop.location:
                target = urljoin(current, hop.location.strip())
                chain.append((int(hop.code or 0), target))
                if target in seen:
                    return self._final(url, family, chain, StatusKind.REDIRECT_LOOP, hops)
                seen.add(target)
                current = target
                continue
            return self._final(url, family, chain, None, hops)
        return self._final(url, family, chain, StatusKind.TOO_MANY_REDIRECTS, hops)

    @staticmethod
    def _final(
        url: str,
        family: int,
        chain: list[tuple[int, str]],
        failure: StatusKind | None,
        hops: list[HttpResult],
    ) -> HttpResult:
        first, hop = hops[0], hops[-1]
        tls = [h.tls_verified for h in hops if h.tls_verified is not None]
        problems = [h.tls_problem for h in hops if h.tls_problem]
        status = (
            LinkStatus(failure, hop.code, f"after {len(chain)} redirects")
            if failure
            else hop.status
        )
        return HttpResult(
            url=url,
            family=family,
            status=status,
            code=None if failure else hop.code,
            final_url=hop.url,
            address=hop.address,
            port=hop.port,
            redirects=chain,
            content_type=hop.content_type,
            body=hop.body,
            size=hop.size,
            digest=hop.digest,
            truncated=hop.truncated,
            timings=first.timings,
            tls_verified=all(tls) if tls else None,
            tls_problem=problems[0] if problems else "",
        )

    def _get(self, url: str, family: int, keep_body: bool = False) -> HttpResult:
        """One request, no redirects."""
        timings = Timings()
        result = HttpResult(
            url, family, LinkStatus(StatusKind.ERROR), final_url=url, timings=timings
        )
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            host = (parts.hostname or "").lower()
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            result.status = LinkStatus(StatusKind.ERROR, detail=f"bad URL: {exc}")
            return result
        if scheme not in ("http", "https") or not host:
            result.status = LinkStatus(StatusKind.ERROR, detail=f"not an http(s) URL: {url}")
            return result
        result.port = port
        lookup = self.resolver.lookup(host, family, port)
        timings.dns_ms = round(lookup.elapsed_ms, 1)
        addresses = [a for a in lookup.addresses if family == 4 or is_usable_ipv6(a)]
        if not addresses:
            reason = lookup.error or f"no {'AAAA' if family == 6 else 'A'} record"
            result.status = LinkStatus(StatusKind.DNS_FAILURE, detail=f"{host}: {reason}")
            return result
        start = time.perf_counter()
        conn: _PinnedHTTP | None = None
        error: LinkStatus | None = None
        for address in addresses:  # within one family, fall back to the next address
            with self._lock:
                known_dead = self._dead.get((address, port))
            if known_dead is not None:  # failed before: do not wait for it again
                error = error or known_dead
                result.address = result.address or address
                continue
            conn = self._connection(scheme, _ascii_host(host), port, address, timings)
            try:
                conn.connect()
                result.address = address
                error = None
                if scheme == "https":
                    result.tls_verified = self.verify_tls
                break
            except ssl.SSLCertVerificationError as exc:
                conn.close()
                conn = None
                result.address = address
                error = classify(exc)
                if self.tls_fallback:
                    conn = self._connection(
                        scheme, _ascii_host(host), port, address, timings, self.insecure_context
                    )
                    try:
                        conn.connect()
                        error = None
                        result.tls_verified, result.tls_problem = False, str(exc.verify_message)
                    except OSError as again:
                        error = classify(again)
                        conn.close()
                        conn = None
                break
            except ssl.SSLError as exc:
                result.address = address
                error = classify(exc)
                conn.close()
                conn = None
                break
            except OSError as exc:
                failure = classify(exc)
                self._mark_dead(address, port, failure)
                error = error or failure
                result.address = result.address or address
                conn.close()
                conn = None
        if conn is None:
            result.status = error or LinkStatus(StatusKind.ERROR, detail="no address connected")
            timings.total_ms = _ms(start)
            return result
        with self._lock:
            self.requests_made += 1
        try:
            conn.putrequest("GET", _request_target(url), skip_accept_encoding=True)
            conn.putheader("User-Agent", self.user_agent)
            conn.putheader("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
            conn.putheader("Accept-Encoding", "identity")
            conn.putheader("Connection", "close")
            conn.endheaders()
            sent = time.perf_counter()
            response = conn.getresponse()
            timings.first_byte_ms = _ms(sent)
            result.code = response.status
            result.content_type = response.getheader("Content-Type", "") or ""
            result.location = response.getheader("Location", "") or ""
            result.status = (
                LinkStatus(StatusKind.OK, response.status)
                if response.status < 400
                else LinkStatus(StatusKind.HTTP_ERROR, response.status)
            )
            if result.is_html and response.status not in REDIRECT_CODES:
                result.body, result.truncated = self._read(response, start)
                result.size = len(result.body)
                if self.digest is not None:
                    result.digest = self.digest(result)
                if not keep_body:
                    result.body = b""
        except Exception as exc:
            if result.code is None:
                result.status = classify(exc)
                if result.status.kind is StatusKind.TIMEOUT and result.address:
                    self._count_timeout(result.address, port, result.status)
            # A body cut short after the status line still counts as an answer; note it.
            else:
                result.truncated = True
        finally:
            conn.close()
        timings.total_ms = _ms(start)
        return result

    def _mark_dead(self, address: str, port: int, status: LinkStatus) -> None:
        """A refused, unreachable or silent (connect timeout) address:port fails fast after."""
        if status.kind in (StatusKind.CONNECTION_REFUSED, StatusKind.TIMEOUT, StatusKind.ERROR):
            note = f"{status.detail} (earlier connection to [{address}]:{port} failed; not retried)"
            with self._lock:
                self._dead.setdefault((address, port), LinkStatus(status.kind, detail=note))

    def _count_timeout(self, address: str, port: int, status: LinkStatus) -> None:
        """Servers that accept but never answer (an IPv6 MTU black hole …) cost
        ``timeout`` per URL: after ``DEAD_AFTER_TIMEOUTS`` of them, fail fast too."""
        with self._lock:
            count = self._timeouts[(address, port)] = self._timeouts.get((address, port), 0) + 1
        if count >= DEAD_AFTER_TIMEOUTS:
            note = f"{count} requests to [{address}]:{port} timed out; not retried"
            with self._lock:
                self._dead.setdefault((address, port), LinkStatus(StatusKind.TIMEOUT, detail=note))

    def _connection(
        self,
        scheme: str,
        host: str,
        port: int,
        address: str,
        timings: Timings,
        context: ssl.SSLContext | None = None,
    ) -> _PinnedHTTP:
        if scheme == "https":
            ctx = context or self.ssl_context
            return _PinnedHTTPS(host, port, address, self.timeout, timings, ctx)
        return _PinnedHTTP(host, port, address, self.timeout, timings)

    def _read(self, response: http.client.HTTPResponse, start: float) -> tuple[bytes, bool]:
        """Read at most ``max_body`` bytes before a deadline (a slow drip never hangs a run)."""
        deadline = start + self.timeout * 3
        chunks: list[bytes] = []
        size = 0
        while size < self.max_body:
            if time.perf_counter() > deadline:
                return b"".join(chunks), True
            chunk = response.read(min(65536, self.max_body - size))
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), True


@dataclass
class DnsServerProbe:
    """Did the name server at ``address`` answer a query for ``zone``?"""

    address: str
    port: int
    status: LinkStatus
    rtt_ms: float | None = None
    rcode: str = ""
    authoritative: bool = False

    @property
    def ok(self) -> bool:
        return self.status.is_ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "port": self.port,
            "answered": self.ok,
            "rcode": self.rcode,
            "authoritative": self.authoritative,
            "rtt_ms": self.rtt_ms,
            "error": "" if self.ok else self.status.kind.value,
            "error_detail": self.status.detail,
        }


def query_dns_server(address: str, port: int, zone: str, timeout: float) -> DnsServerProbe:
    """Ask ``address`` (over UDP) for the SOA of ``zone``; SERVFAIL/REFUSED are no answer."""
    query = dns.message.make_query(zone.rstrip(".") + ".", dns.rdatatype.SOA)
    start = time.perf_counter()
    try:
        response = dns.query.udp(query, address, timeout=timeout, port=port)
    except dns.exception.Timeout as exc:
        return DnsServerProbe(
            address, port, LinkStatus(StatusKind.TIMEOUT, detail=str(exc)), _ms(start)
        )
    except OSError as exc:
        return DnsServerProbe(address, port, classify(exc), _ms(start))
    except dns.exception.DNSException as exc:
        status = LinkStatus(StatusKind.ERROR, detail=f"{type(exc).__name__}: {exc}")
        return DnsServerProbe(address, port, status, _ms(start))
    rtt = _ms(start)
    rcode = response.rcode()
    text = dns.rcode.to_text(rcode)
    aa = bool(response.flags & dns.flags.AA)
    if rcode in (dns.rcode.SERVFAIL, dns.rcode.REFUSED):
        status = LinkStatus(StatusKind.ERROR, detail=f"answered {text}")
        return DnsServerProbe(address, port, status, rtt, text, aa)
    return DnsServerProbe(address, port, LinkStatus(StatusKind.OK), rtt, text, aa)
