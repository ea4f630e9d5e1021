"""No requests to internal networks: the crawler's answer to links used for probing.

A page (or a redirect) may point at ``http://169.254.169.254/latest/meta-data/``, at a
router on 192.168.1.1 or at a name that resolves to 10.x. The crawler fetches none of
them: a target whose address is loopback, private, link-local, unique-local, multicast,
unspecified or reserved is a ``private_address`` outcome (links.broken), decided before
any connection is made and after DNS (a public name resolving to 10.x counts).

Exempt are the audited site's own addresses (its start hosts and extra hosts, resolved
when the crawl starts, so an intranet site can be audited) and the addresses named by
``--resolve`` and ``--dns-server`` (a staging server, the demo and the tests on loopback).

Two checks share one :class:`AddressPolicy`: :class:`AddressGuardMiddleware` for URLs
that name an IP address (Twisted connects to those without asking the resolver), and
:mod:`crawler.resolve` for names, once they are resolved. Twisted reports a name the
resolver refused as "no results" (DNSLookupError), so the policy remembers the names it
refused and the spider asks it (:meth:`AddressPolicy.refused`) before calling a failed
lookup a dns_failure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from core.config import Config, parse_dns_server, parse_resolve
from core.dns import DnsFailure, Resolver, is_ip
from core.snapshot import LinkStatus, StatusKind

if TYPE_CHECKING:
    from scrapy.http import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class PrivateAddressError(Exception):
    """A target resolves to an address the crawler does not connect to."""

    def __init__(self, host: str, address: str, category: str) -> None:
        super().__init__(f"{host} is {address} ({category}): not fetched")
        self.host = host
        self.address = address
        self.category = category


def non_public(address: str | IPAddress) -> str | None:
    """The kind of non-public address ``address`` is ('private', 'loopback' …), or None."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return non_public(mapped)
        if ip in _UNIQUE_LOCAL:
            return "unique-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private or ip in _SHARED:
        return "private"
    if ip.is_reserved:
        return "reserved"
    return None


_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


class AddressPolicy:
    """Which addresses the crawler may connect to."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        self.allowed: set[IPAddress] = set()
        self._refused: dict[str, PrivateAddressError] = {}  # host name → why
        for a in allowed:
            try:
                self.allowed.add(ipaddress.ip_address(a.strip("[]")))
            except ValueError:
                continue

    @classmethod
    def for_site(cls, config: Config, resolver: Resolver | None) -> AddressPolicy:
        """The site's own addresses, ``--resolve`` targets and the ``--dns-server``."""
        allowed: list[str] = []
        for item in config.dns.resolve:
            allowed.append(parse_resolve(item)[2])
        if config.dns.server:
            allowed.append(parse_dns_server(config.dns.server)[0])
        hosts = {urlsplit(u).hostname or "" for u in config.site.urls}
        hosts |= {h.strip().lower() for h in config.site.extra_hosts}
        for host in sorted(h for h in hosts if h):
            if is_ip(host):
                allowed.append(host.strip("[]"))
            elif resolver is not None:
                for family in (4, 6):
                    try:
                        allowed.extend(resolver.lookup(host, family).addresses)
                    except (DnsFailure, OSError):
                        pass  # a start host that does not resolve fails the crawl anyway
        return cls(allowed)

    def permits(self, address: str) -> bool:
        """May ``address`` be connected to? (``check`` without the exception; not an IP: no.)"""
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return ip in self.allowed or non_public(ip) is None

    def check(self, host: str, address: str) -> None:
        """Raise :class:`PrivateAddressError` unless ``address`` may be connected to."""
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return
        if ip in self.allowed:
            return
        category = non_public(ip)
        if category is not None:
            exc = PrivateAddressError(host, str(ip), category)
            if len(self._refused) < 100_000:
                self._refused[host.lower().strip("[]")] = exc
            raise exc

    def refused(self, host: str) -> PrivateAddressError | None:
        """Why the name ``host`` was refused, if it was."""
        return self._refused.get(host.lower().strip("[]"))

    def explain(self, status: LinkStatus, url: str) -> LinkStatus:
        """``status``, or private_address when it is a dns_failure of a refused name."""
        if status.kind is not StatusKind.DNS_FAILURE:
            return status
        try:
            refused = self.refused(urlsplit(url).hostname or "")
        except ValueError:
            return status
        return (
            status
            if refused is None
            else LinkStatus(StatusKind.PRIVATE_ADDRESS, None, str(refused))
        )


class AddressGuardMiddleware:
    """Downloader middleware: refuses URLs naming a non-public IP address (no DNS)."""

    policy: AddressPolicy | None = None  # bound by middleware_class()

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        if self.policy is None:
            return
        try:
            host = urlsplit(request.url).hostname or ""
        except ValueError:
            return
        if is_ip(host):
            self.policy.check(host, host)


def middleware_class(policy: AddressPolicy) -> type[AddressGuardMiddleware]:
    """A subclass bound to ``policy`` (Scrapy builds middlewares from class paths)."""
    return type("BoundAddressGuardMiddleware", (AddressGuardMiddleware,), {"policy": policy})
