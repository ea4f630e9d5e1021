"""Name resolution for Scrapy through the run's :class:`core.dns.Resolver`.

Scrapy's HTTP/1.1 handler connects with ``reactor.connectTCP(host, …)``, which asks the
reactor's IResolverSimple. :func:`resolver_class` binds a run's Resolver (``--resolve``,
``--dns-server``) to a class Scrapy builds from ``TWISTED_DNS_RESOLVER``; unknown names
fail with DNSLookupError, which the checker maps to ``dns_failure``. A name that resolves
to an internal address the run may not reach (see :mod:`crawler.guard`) fails with
PrivateAddressError before any connection is made (``private_address``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted.internet import threads
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer

from core.dns import Resolver, is_ip
from crawler.guard import AddressPolicy, PrivateAddressError


@implementer(IResolverSimple)
class GovauditTwistedResolver:
    """IPv4 lookups (A records) via core.dns.Resolver, off the reactor thread."""

    resolver: Resolver | None = None  # bound by resolver_class()
    policy: AddressPolicy | None = None  # bound by resolver_class(); None: no check

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self._cache: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GovauditTwistedResolver:
        return cls(reactor)

    def install_on_reactor(self) -> None:
        self.reactor.installResolver(self)

    def _lookup(self, name: str) -> str:
        assert self.resolver is not None
        found = self.resolver.lookup(name, 4)
        if not found.addresses:
            raise DNSLookupError(f"{name}: {found.error or 'no IPv4 address'}")
        return found.addresses[0]

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:  # noqa: N802
        if is_ip(name):
            return self._allowed(name, name)
        cached = self._cache.get(name)
        if cached is not None:
            return self._allowed(name, cached)
        if self.resolver is None:
            return fail(DNSLookupError(f"{name}: no resolver"))
        d = threads.deferToThread(self._lookup, name)

        def remember(addr: str) -> str:
            self._cache[name] = addr
            return addr

        d.addCallback(remember)
        d.addCallback(lambda addr: self._allowed(name, addr))
        return d

    def _allowed(self, name: str, addr: str) -> Deferred[str]:
        if self.policy is not None:
            try:
                self.policy.check(name, addr)
            except PrivateAddressError as exc:
                return fail(exc)
        return succeed(addr)


def resolver_class(
    resolver: Resolver, policy: AddressPolicy | None = None
) -> type[GovauditTwistedResolver]:
    """A subclass bound to ``resolver`` (Scrapy deep-copies settings; classes survive that)."""
    return type(
        "BoundGovauditResolver",
        (GovauditTwistedResolver,),
        {"resolver": resolver, "policy": policy},
    )
