"""A tiny authoritative DNS server on loopback (dnslib), for the demo site and for tests.

    records = {
        "www.example.gov.cn": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
        "static.example.gov.cn": {"A": ["127.0.0.1"]},          # IPv4 only
        "alias.example.gov.cn": {"CNAME": ["www.example.gov.cn"]},
        "example.gov.cn": {"NS": ["ns1.example.gov.cn", "ns2.example.gov.cn"]},
    }
    with ZoneServer(records) as zone:            # UDP and TCP on 127.0.0.1, ephemeral port
        zone.server                                # "127.0.0.1:PORT", for --dns-server

Names in ``records`` answer what they hold (an empty answer, NODATA, for a type they do not
hold); CNAMEs are followed inside the zone; every other name is NXDOMAIN. With ``ipv6=True``
the server also answers on ``[::1]`` at the same port (so a name server with an AAAA ::1
really answers over IPv6). ``queries`` records every (name, type) asked, for tests.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from dnslib import AAAA, CNAME, NS, QTYPE, RCODE, RR, SOA, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSLogger, DNSServer

_TYPES: dict[str, Any] = {"A": A, "AAAA": AAAA, "CNAME": CNAME, "NS": NS, "TXT": TXT}
TTL = 60


def _norm(name: str) -> str:
    return name.lower().rstrip(".")


class _ZoneResolver(BaseResolver):
    def __init__(self, records: Mapping[str, Mapping[str, Sequence[str]]], log: list) -> None:
        self.records = {
            _norm(n): {t.upper(): list(v) for t, v in types.items()} for n, types in records.items()
        }
        for types in self.records.values():
            for rtype in types:
                if rtype not in _TYPES:
                    raise ValueError(f"record type {rtype!r} not supported; use {sorted(_TYPES)}")
        self.log = log
        self.lock = threading.Lock()

    def _soa(self, name: str) -> RR | None:
        # The closest enclosing name that has NS records is the zone apex.
        labels = name.split(".")
        for i in range(len(labels)):
            apex = ".".join(labels[i:])
            ns = self.records.get(apex, {}).get("NS")
            if ns:
                return RR(
                    apex,
                    QTYPE.SOA,
                    ttl=TTL,
                    rdata=SOA(ns[0], f"hostmaster.{apex}", (2026010101, 3600, 600, 86400, TTL)),
                )
        return None

    def resolve(self, request: DNSRecord, handler: Any) -> DNSRecord:
        reply = request.reply()
        reply.header.aa = 1
        qname = _norm(str(request.q.qname))
        qtype = QTYPE[request.q.qtype]
        with self.lock:
            self.log.append((qname, qtype))
        name, seen = qname, set()
        while True:
            types = self.records.get(name)
            if types is None:
                if name == qname:
                    reply.header.rcode = RCODE.NXDOMAIN
                break
            if qtype != "CNAME" and "CNAME" in types and name not in seen:
                seen.add(name)
                target = _norm(types["CNAME"][0])
                reply.add_answer(RR(name, QTYPE.CNAME, ttl=TTL, rdata=CNAME(target)))
                name = target
                continue
            for value in types.get(qtype, []) if qtype in _TYPES else []:
                reply.add_answer(
                    RR(name, getattr(QTYPE, qtype), ttl=TTL, rdata=_TYPES[qtype](value))
                )
            break
        if not reply.rr:
            soa = self._soa(qname)
            if soa is not None:
                reply.add_auth(soa)
        return reply


class ZoneServer:
    """Authoritative answers for ``records`` on 127.0.0.1 (and optionally ::1), UDP and TCP."""

    def __init__(
        self,
        records: Mapping[str, Mapping[str, Sequence[str]]],
        address: str = "127.0.0.1",
        port: int = 0,
        ipv6: bool = False,
    ) -> None:
        self.queries: list[tuple[str, str]] = []
        self.resolver = _ZoneResolver(records, self.queries)
        self.address = address
        self.port = port
        self.ipv6 = ipv6
        self._servers: list[DNSServer] = []

    @property
    def server(self) -> str:
        """'IP:PORT', as ``--dns-server`` and the config's dns.server take it."""
        return f"{self.address}:{self.port}"

    def start(self) -> ZoneServer:
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        for attempt in range(20):
            servers: list[DNSServer] = []
            try:
                udp = DNSServer(self.resolver, address=self.address, port=self.port, logger=logger)
                servers.append(udp)
                port = udp.server.server_address[1]
                servers.append(
                    DNSServer(
                        self.resolver, address=self.address, port=port, tcp=True, logger=logger
                    )
                )
                if self.ipv6:
                    servers.append(
                        DNSServer(self.resolver, address="::1", port=port, logger=logger)
                    )
                    servers.append(
                        DNSServer(self.resolver, address="::1", port=port, tcp=True, logger=logger)
                    )
            except OSError:
                for s in servers:
                    s.server.server_close()
                if self.port or attempt == 19:
                    raise
                continue
            self.port = port
            self._servers = servers
            break
        for s in self._servers:
            s.thread = threading.Thread(
                target=s.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            s.thread.start()
        return self

    def stop(self) -> None:
        for s in self._servers:
            s.server.shutdown()
            s.server.server_close()
            s.thread.join(timeout=5)
        self._servers = []

    def __enter__(self) -> ZoneServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def query(server: str, name: str, rtype: str = "A", timeout: float = 2.0) -> DNSRecord:
    """Ask ``server`` ('IP:PORT') one question over UDP; for quick checks and tests."""
    host, _, port = server.rpartition(":")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    packet = DNSRecord.question(name, rtype).pack()
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (host.strip("[]"), int(port)))
        data, _ = sock.recvfrom(4096)
    return DNSRecord.parse(data)
