"""Loopback servers for the IPv6 and DNS tests: a small authoritative DNS server (dnslib)
on 127.0.0.1 and ::1, and HTTP servers on the same port on both families.

The DNS server differs from the demo's on purpose in two ways a real internet has:
``chase_cnames=False`` answers a CNAME alone (as an authoritative server does for a
target outside its zone), and ``silent_v6`` lists zones whose queries the ::1 instance
drops (a name server with an AAAA that does not answer over IPv6).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dnslib import AAAA, CNAME, NS, QTYPE, RCODE, RR, SOA, A, DNSRecord
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.loopback import LoopbackServer

_TYPES: dict[str, Any] = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "NS": NS}


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


class _Zone(BaseResolver):
    def __init__(
        self,
        records: Mapping[str, Mapping[str, Sequence[str]]],
        chase_cnames: bool,
        silent: Iterable[str] = (),
    ) -> None:
        self.records = {_norm(n): {t: list(v) for t, v in r.items()} for n, r in records.items()}
        self.chase = chase_cnames
        self.silent = {_norm(z) for z in silent}
        self.queries: list[tuple[str, str, str]] = []  # (family, name, type)
        self.lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        qname = _norm(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        family = "6" if ":" in handler.client_address[0] else "4"
        with self.lock:
            self.queries.append((family, qname, qtype))
        if family == "6" and any(qname == z or qname.endswith("." + z) for z in self.silent):
            raise DNSError("silent over IPv6")  # dnslib drops the query: no reply at all
        reply = request.reply()
        reply.header.aa = 1
        name = qname
        for _ in range(8):
            types = self.records.get(name)
            if types is None:
                if name == qname:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            if qtype != "CNAME" and "CNAME" in types:
                target = _norm(types["CNAME"][0])
                reply.add_answer(RR(name, QTYPE.CNAME, ttl=60, rdata=CNAME(target)))
                if not self.chase:
                    break
                name = target
                continue
            if qtype == "SOA" and "NS" in types:
                soa = SOA(types["NS"][0], f"hostmaster.{name}", (1, 3600, 600, 86400, 60))
                reply.add_answer(RR(name, QTYPE.SOA, ttl=60, rdata=soa))
            for value in types.get(qtype, []) if qtype in _TYPES else []:
                reply.add_answer(
                    RR(name, getattr(QTYPE, qtype), ttl=60, rdata=_TYPES[qtype](value))
                )
            break
        return reply


class DualDNS:
    """Authoritative answers for ``records`` over UDP on 127.0.0.1:PORT and [::1]:PORT."""

    def __init__(
        self,
        records: Mapping[str, Mapping[str, Sequence[str]]],
        chase_cnames: bool = False,
        silent_v6: Iterable[str] = (),
    ) -> None:
        self.zone = _Zone(records, chase_cnames, silent_v6)
        self.port = 0
        self._servers: list[DNSServer] = []

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def queries_for(self, name: str, qtype: str | None = None) -> list[tuple[str, str, str]]:
        with self.zone.lock:
            return [q for q in self.zone.queries if q[1] == name and qtype in (None, q[2])]

    def start(self) -> DualDNS:
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        for attempt in range(30):
            servers: list[DNSServer] = []
            try:
                v4 = DNSServer(self.zone, address="127.0.0.1", port=0, logger=logger)
                servers.append(v4)
                port = v4.server.server_address[1]
                servers.append(DNSServer(self.zone, address="::1", port=port, logger=logger))
            except OSError:
                for s in servers:
                    s.server.server_close()
                if attempt == 29:
                    raise
                continue
            self.port, self._servers = port, servers
            break
        for s in self._servers:
            threading.Thread(
                target=s.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            ).start()
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.server.shutdown()
            s.server.server_close()

    def __enter__(self) -> DualDNS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def dual_http() -> tuple[LoopbackServer, LoopbackServer]:
    """Two LoopbackServers on the same port: one on 127.0.0.1, one on ::1 (not started)."""
    for _ in range(30):
        v4 = LoopbackServer("127.0.0.1")
        try:
            v6 = LoopbackServer("::1", port=v4.port)
        except OSError:
            v4._server.server_close()
            continue
        return v4, v6
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


def v4_only_http() -> LoopbackServer:
    """A LoopbackServer on 127.0.0.1 whose port is free (nothing listening) on ::1."""
    for _ in range(30):
        v4 = LoopbackServer("127.0.0.1")
        with socket.socket(socket.AF_INET6) as probe:
            try:
                probe.bind(("::1", v4.port))
            except OSError:
                v4._server.server_close()
                continue
        return v4
    raise RuntimeError("no port free on ::1")
