"""core.dns.Resolver against a real authoritative DNS server on loopback (dnslib)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.config import DnsConfig
from core.dns import DnsFailure, Resolver
from tests.ipv6_servers import DualDNS

RECORDS = {
    "www.zone.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "v4.zone.test": {"A": ["127.0.0.2"]},
    "busy.zone.test": {"AAAA": ["::1"]},
    "alias.zone.test": {"CNAME": ["mid.zone.test"]},
    "mid.zone.test": {"CNAME": ["www.zone.test"]},
    "loop1.zone.test": {"CNAME": ["loop2.zone.test"]},
    "loop2.zone.test": {"CNAME": ["loop1.zone.test"]},
    "zone.test": {"NS": ["ns2.zone.test", "ns1.zone.test"]},
    "ns1.zone.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "cdn.zone.test": {"CNAME": ["edge.other.test"]},
    "other.test": {"NS": ["ns.other.test"]},
    "edge.other.test": {"A": ["127.0.0.1"]},
}


@pytest.fixture(scope="module")
def dns_server():
    with DualDNS(RECORDS, chase_cnames=False) as server:
        yield server


def resolver(server: DualDNS, **kw) -> Resolver:
    return Resolver(DnsConfig(server=server.server, **kw), timeout=2)


def test_a_and_aaaa_from_the_configured_server(dns_server):
    r = resolver(dns_server)
    v4, v6 = r.lookup("www.zone.test", 4), r.lookup("WWW.Zone.Test.", 6)
    assert (v4.addresses, v6.addresses) == (["127.0.0.1"], ["::1"])
    assert v4.source == v6.source == "dns"
    assert r.addresses("www.zone.test") == ["127.0.0.1", "::1"]


def test_ipv4_only_name_has_no_aaaa_and_no_error(dns_server):
    look = resolver(dns_server).lookup("v4.zone.test", 6)
    assert look.addresses == [] and look.error == ""


def test_cname_chain_is_chased_when_the_server_answers_the_alias_alone(dns_server):
    r = resolver(dns_server)
    look = r.lookup("alias.zone.test", 6)
    assert look.addresses == ["::1"]
    assert look.cnames == ["mid.zone.test", "www.zone.test"]
    # The server really answered only the CNAME each time: three questions were needed.
    assert dns_server.queries_for("mid.zone.test", "AAAA")
    assert dns_server.queries_for("www.zone.test", "AAAA")


def test_cname_loop_ends_without_addresses(dns_server):
    look = resolver(dns_server).lookup("loop1.zone.test", 4)
    assert look.addresses == []
    assert "loop2.zone.test" in look.cnames


def test_nxdomain_is_reported(dns_server):
    r = resolver(dns_server)
    assert r.lookup("missing.zone.test", 4).error == "NXDOMAIN"
    with pytest.raises(DnsFailure):
        r.addresses("missing.zone.test")


def test_each_name_is_asked_once_per_run(dns_server):
    r = resolver(dns_server)
    before = len(dns_server.queries_for("v4.zone.test", "A"))
    for _ in range(5):
        r.lookup("v4.zone.test", 4)
    assert len(dns_server.queries_for("v4.zone.test", "A")) == before + 1


def test_concurrent_lookups_of_one_name_send_one_query(dns_server):
    r = resolver(dns_server)
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: r.lookup("busy.zone.test", 6).addresses, range(16)))
    assert found == [["::1"]] * 16
    assert len(dns_server.queries_for("busy.zone.test", "AAAA")) == 1


def test_resolve_override_wins_over_dns_and_is_per_family(dns_server):
    r = resolver(dns_server, resolve=["www.zone.test:8080:127.0.0.9", "www.zone.test:8080:[::1]"])
    assert r.lookup("www.zone.test", 4, 8080).addresses == ["127.0.0.9"]
    assert r.lookup("www.zone.test", 6, 8080).addresses == ["::1"]
    assert r.lookup("www.zone.test", 4, 8080).source == "override"


def test_nameservers_walk_up_to_the_zone(dns_server):
    ns = resolver(dns_server).nameservers("www.zone.test")
    assert ns.zone == "zone.test"
    assert ns.names == ["ns1.zone.test", "ns2.zone.test"]


def test_nameservers_of_an_alias_are_not_the_cdn_zones(dns_server):
    # cdn.zone.test is a CNAME into other.test: the site's zone is still zone.test.
    ns = resolver(dns_server).nameservers("cdn.zone.test")
    assert ns.zone == "zone.test"


def test_dead_dns_server_times_out_quickly():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:  # receives, never answers
        sink.bind(("127.0.0.1", 0))
        port = sink.getsockname()[1]
        r = Resolver(DnsConfig(server=f"127.0.0.1:{port}"), timeout=0.5)
        start = time.monotonic()
        look = r.lookup("www.zone.test", 6)
        ns = r.nameservers("www.zone.test")
        assert time.monotonic() - start < 3
    assert look.addresses == [] and "timeout" in look.error.lower()
    assert ns.zone == "" and "timeout" in ns.error.lower()


def test_literal_addresses_need_no_dns():
    r = Resolver(DnsConfig(), timeout=1)
    assert r.lookup("::1", 6).addresses == ["::1"]
    assert r.lookup("[::1]", 4).addresses == []
    assert r.lookup("127.0.0.1", 4).source == "literal"
