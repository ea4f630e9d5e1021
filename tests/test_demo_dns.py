"""ZoneServer: the small reusable authoritative DNS server (dnslib) on loopback."""

from __future__ import annotations

import socket

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from govaudit.demo.dnsserver import ZoneServer, query

RECORDS = {
    "www.example.gov.cn": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "v4.example.gov.cn": {"A": ["127.0.0.1"]},
    "alias.example.gov.cn": {"CNAME": ["cdn.example.gov.cn"]},
    "cdn.example.gov.cn": {"CNAME": ["www.example.gov.cn"]},
    "example.gov.cn": {"NS": ["ns1.example.gov.cn"], "TXT": ["v=demo"]},
}


@pytest.fixture(scope="module")
def zone():
    with ZoneServer(RECORDS) as z:
        yield z


def _resolver(z: ZoneServer) -> dns.resolver.Resolver:
    r = dns.resolver.Resolver(configure=False)
    r.nameservers, r.port, r.lifetime = [z.address], z.port, 2
    return r


def test_answers_a_aaaa_ns_txt_and_follows_cname_chains(zone):
    r = _resolver(zone)
    assert zone.server == f"127.0.0.1:{zone.port}"
    assert [x.address for x in r.resolve("WWW.Example.gov.cn.", "A")] == ["127.0.0.1"]
    answer = r.resolve("alias.example.gov.cn", "AAAA")
    assert [x.address for x in answer] == ["::1"]
    chain = [str(rr.name) for rr in answer.response.answer if rr.rdtype == dns.rdatatype.CNAME]
    assert chain == ["alias.example.gov.cn.", "cdn.example.gov.cn."]
    assert [str(x.target) for x in r.resolve("example.gov.cn", "NS")] == ["ns1.example.gov.cn."]
    assert [x.strings for x in r.resolve("example.gov.cn", "TXT")] == [(b"v=demo",)]
    assert ("alias.example.gov.cn", "AAAA") in zone.queries


def test_nodata_and_nxdomain_are_authoritative_with_soa(zone):
    msg = dns.message.make_query("v4.example.gov.cn", "AAAA")
    resp = dns.query.udp(msg, zone.address, port=zone.port, timeout=2)
    assert resp.rcode() == dns.rcode.NOERROR and not resp.answer
    assert resp.authority and resp.authority[0].rdtype == dns.rdatatype.SOA
    assert resp.flags & dns.flags.AA
    msg = dns.message.make_query("nope.example.gov.cn", "A")
    resp = dns.query.udp(msg, zone.address, port=zone.port, timeout=2)
    assert resp.rcode() == dns.rcode.NXDOMAIN
    resp = dns.query.udp(dns.message.make_query("x.invalid", "A"), zone.address, port=zone.port)
    assert resp.rcode() == dns.rcode.NXDOMAIN and not resp.authority


def test_tcp_and_ipv6_listeners():
    with ZoneServer(RECORDS, ipv6=True) as z:
        msg = dns.message.make_query("www.example.gov.cn", "A")
        assert dns.query.tcp(msg, "127.0.0.1", port=z.port, timeout=2).answer
        assert dns.query.udp(msg, "::1", port=z.port, timeout=2).answer
        assert query(f"[::1]:{z.port}", "www.example.gov.cn", "AAAA").rr[0].rdata
        port = z.port
    # Stopped: the port is free again (bind succeeds) and nothing answers.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    s.close()


def test_unsupported_record_type_is_a_clear_error():
    with pytest.raises(ValueError, match="MX"):
        ZoneServer({"a.example": {"MX": ["10 mail.example"]}})
