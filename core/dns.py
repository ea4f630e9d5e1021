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

from core.config import DnsConfig, parse_dns_server, parse_resolve


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
    source: str = ""  # literal | override | dns | system: where the addresses came from


@dataclass
class NsLookup:
    """The name servers of the zone that holds a host (found by walking up its labels)."""

    host: str
    zone: str = ""  # e.g. "example.gov.cn"; "" when no NS was found
    names: list[str] = field(default_factory=list)  # NS host names, sorted
    elapsed_ms: float = 0.0
    error: str = ""


#: How many CNAME hops are chased when a server answers with a chain but no address.
MAX_CNAME_HOPS = 8


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
        self._ns_cache: dict[str, NsLookup] = {}
        self._key_locks: dict[tuple[str, int], threading.Lock] = {}
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
            return Lookup(host, family, [host] if ip.version == family else [], source="literal")
        forced = self.override(host, port)
        if forced is not None:
            return Lookup(
                host,
                family,
                [a for a in forced if ipaddress.ip_address(a).version == family],
                source="override",
            )
        key = (host, family)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # One query per name and family, even when many threads ask at once.
        with key_lock:
            with self._lock:
                cached = self._cache.get(key)
            if cached is not None:
                return cached
            result = (
                self._query_dns(host, family) if self.server else self._query_system(host, family)
            )
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
            elapsed = (time.perf_counter() - start) * 1000
            return Lookup(host, family, addrs, elapsed_ms=elapsed, source="system")
        except (socket.gaierror, UnicodeError) as exc:
            elapsed = (time.perf_counter() - start) * 1000
            return Lookup(host, family, [], elapsed_ms=elapsed, error=str(exc), source="system")

    def _query_dns(self, host: str, family: int) -> Lookup:
        start = time.perf_counter()
        rdtype = dns.rdatatype.A if family == 4 else dns.rdatatype.AAAA
        out = Lookup(host, family, source="dns")
        try:
            qname = host
            for _hop in range(MAX_CNAME_HOPS):
                answer = self.dnspython().resolve(
                    dns.name.from_text(qname), rdtype, raise_on_no_answer=False
                )
                # The CNAME chain dnspython followed, in order.
                hop_cnames: list[str] = []
                for rrset in answer.response.answer:
                    if rrset.rdtype == dns.rdatatype.CNAME:
                        hop_cnames.extend(str(r.target).rstrip(".").lower() for r in rrset)
                out.cnames.extend(c for c in hop_cnames if c not in out.cnames)
                if answer.rrset is not None:
                    out.addresses = [r.address for r in answer.rrset]
                    break
                # An authoritative server may answer with the CNAME alone (it does not
                # chase names outside its zone): ask again for the canonical name.
                target = str(answer.canonical_name).rstrip(".").lower()
                if not hop_cnames or target == qname or target in (host, *out.cnames[:-1]):
                    break
                qname = target
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

    def nameservers(self, host: str) -> NsLookup:
        """NS names of the zone holding ``host``: ask for NS at ``host``, then each parent.

        Stops at two labels (``example.cn``); a timeout ends the walk with an error rather
        than guessing. Cached per run.
        """
        host = host.lower().rstrip(".").strip("[]")
        with self._lock:
            cached = self._ns_cache.get(host)
        if cached is not None:
            return cached
        out = NsLookup(host)
        start = time.perf_counter()
        if is_ip(host) or "." not in host:
            out.error = "not a domain name"
        else:
            labels = host.split(".")
            for i in range(0, len(labels) - 1):
                name = ".".join(labels[i:])
                try:
                    answer = self.dnspython().resolve(
                        dns.name.from_text(name), dns.rdatatype.NS, raise_on_no_answer=False
                    )
                except dns.resolver.NXDOMAIN:
                    continue
                except dns.exception.Timeout:
                    out.error = f"DNS timeout asking for NS of {name}"
                    break
                except dns.exception.DNSException as exc:
                    out.error = f"{type(exc).__name__}: {exc}"
                    break
                if answer.canonical_name != dns.name.from_text(name):
                    continue  # an alias: its NS belong to the target's zone (a CDN's), not ours
                if answer.rrset is not None and answer.rrset.rdtype == dns.rdatatype.NS:
                    out.zone = name
                    out.names = sorted({str(r.target).rstrip(".").lower() for r in answer.rrset})
                    break
            else:
                out.error = out.error or "no NS record found"
        out.elapsed_ms = (time.perf_counter() - start) * 1000
        with self._lock:
            self._ns_cache[host] = out
        return out
