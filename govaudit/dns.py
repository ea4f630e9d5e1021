"""One resolver for the crawler and every plugin, honouring ``--resolve`` and ``--dns-server``.

``--resolve HOST:PORT:ADDR`` works as in curl: HOST resolves to ADDR (for that port; the
crawler, which cannot see ports when it resolves, applies it to every port).
``--dns-server IP[:PORT]`` sends every other lookup to that server (dnspython);
without it, addresses come from the system (``getaddrinfo``, so /etc/hosts works).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass, field

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from govaudit.config import DnsConfig, parse_dns_server, parse_resolve


class DnsFailure(Exception):
    """The name does not resolve (NXDOMAIN, no answer, server failure or timeout)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


@dataclass
class Lookup:
    """Addresses of one name for one family, with the CNAME chain and the time it took."""

    name: str
    family: int  # 4 or 6
    addresses: list[str] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    error: str = ""


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


class Resolver:
    """Thread-safe, caching resolver. One per run."""

    def __init__(self, config: DnsConfig | None = None, timeout: float = 5.0) -> None:
        config = config or DnsConfig()
        self.overrides: dict[tuple[str, int | None], list[str]] = {}
        for item in config.resolve:
            host, port, addr = parse_resolve(item)
            self.overrides.setdefault((host, port), []).append(addr)
            self.overrides.setdefault((host, None), []).append(addr)
        self.server: tuple[str, int] | None = (
            parse_dns_server(config.server) if config.server else None
        )
        self.timeout = timeout
        self._cache: dict[tuple[str, int], Lookup] = {}
        self._lock = threading.Lock()
        self._dns: dns.resolver.Resolver | None = None
        if self.server:
            r = dns.resolver.Resolver(configure=False)
            r.nameservers = [self.server[0]]
            r.port = self.server[1]
            r.timeout = r.lifetime = timeout
            self._dns = r

    def dnspython(self) -> dns.resolver.Resolver:
        """A dnspython resolver for record types other than A/AAAA (NS, CNAME …)."""
        if self._dns is None:
            r = dns.resolver.Resolver()
            r.timeout = r.lifetime = self.timeout
            self._dns = r
        return self._dns

    def override(self, host: str, port: int | None = None) -> list[str] | None:
        host = host.lower().rstrip(".")
        return self.overrides.get((host, port)) or self.overrides.get((host, None))

    def lookup(self, host: str, family: int, port: int | None = None) -> Lookup:
        """A (family 4) or AAAA (family 6) addresses of ``host``. Cached per run."""
        host = host.lower().rstrip(".").strip("[]")
        if is_ip(host):
            ip = ipaddress.ip_address(host)
            return Lookup(host, family, [host] if ip.version == family else [])
        forced = self.override(host, port)
        if forced is not None:
            return Lookup(
                host, family, [a for a in forced if ipaddress.ip_address(a).version == family]
            )
        key = (host, family)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        result = self._query_dns(host, family) if self.server else self._query_system(host, family)
        with self._lock:
            self._cache[key] = result
        return result

    def addresses(self, host: str, port: int | None = None) -> list[str]:
        """IPv4 then IPv6 addresses; raises DnsFailure when there are none."""
        v4 = self.lookup(host, 4, port)
        v6 = self.lookup(host, 6, port)
        found = v4.addresses + v6.addresses
        if not found:
            raise DnsFailure(host, v4.error or v6.error or "no address")
        return found

    def _query_system(self, host: str, family: int) -> Lookup:
        start = time.perf_counter()
        fam = socket.AF_INET if family == 4 else socket.AF_INET6
        try:
            infos = socket.getaddrinfo(host, None, fam, socket.SOCK_STREAM)
            addrs = list(dict.fromkeys(str(i[4][0]) for i in infos))
            return Lookup(host, family, addrs, elapsed_ms=(time.perf_counter() - start) * 1000)
        except socket.gaierror as exc:
            return Lookup(
                host, family, [], elapsed_ms=(time.perf_counter() - start) * 1000, error=str(exc)
            )

    def _query_dns(self, host: str, family: int) -> Lookup:
        start = time.perf_counter()
        rdtype = dns.rdatatype.A if family == 4 else dns.rdatatype.AAAA
        out = Lookup(host, family)
        try:
            answer = self.dnspython().resolve(host, rdtype, raise_on_no_answer=False)
            # The CNAME chain dnspython followed, in order.
            for rrset in answer.response.answer:
                if rrset.rdtype == dns.rdatatype.CNAME:
                    out.cnames.extend(str(r.target).rstrip(".") for r in rrset)
            if answer.rrset is not None:
                out.addresses = [r.address for r in answer.rrset]
        except dns.resolver.NXDOMAIN:
            out.error = "NXDOMAIN"
        except dns.resolver.NoNameservers as exc:
            out.error = f"no name server answered ({exc})"
        except dns.exception.Timeout:
            out.error = "DNS timeout"
        except dns.exception.DNSException as exc:
            out.error = f"{type(exc).__name__}: {exc}"
        out.elapsed_ms = (time.perf_counter() - start) * 1000
        return out
