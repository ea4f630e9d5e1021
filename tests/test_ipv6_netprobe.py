"""core.netprobe: HTTP(S) pinned to one family, with real servers on 127.0.0.1 and ::1."""

from __future__ import annotations

import datetime as dt
import ssl
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from audits.runner import run_audits
from core.config import DnsConfig, config_from_dict
from core.dns import Resolver
from core.netprobe import FamilyFetcher, query_dns_server, tcp_connect
from core.snapshot import Page, StatusKind
from reports.store import Store
from tests.ipv6_servers import DualDNS, dual_http, v4_only_http
from tests.loopback import Reply

HOST = "www.tls.test"


def make_cert(tmp_path, stem: str = "") -> tuple[str, str]:
    """A self-signed certificate for www.tls.test (its own CA), as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{stem}cert.pem", tmp_path / f"{stem}key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    cert, key = make_cert(tmp_path_factory.mktemp("tls"))
    sni: list[str | None] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.sni_callback = lambda sock, name, c: sni.append(name)
    v4, v6 = dual_http()
    for srv, fam in ((v4, 4), (v6, 6)):
        srv.route(
            "/", handler=lambda req, fam=fam: Reply(200, f"ipv{fam} {req.headers['host']}".encode())
        )
        srv._server.socket = ctx.wrap_socket(srv._server.socket, server_side=True)
    with v4, v6:
        yield v4.port, cert, sni


def resolver_for(port: int, *hosts: str) -> Resolver:
    rules = [f"{h}:{port}:{a}" for h in hosts for a in ("127.0.0.1", "::1")]
    return Resolver(DnsConfig(resolve=rules), timeout=1)


def test_https_over_ipv6_sends_sni_and_verifies_the_host_name(tls):
    port, cert, sni = tls
    fetcher = FamilyFetcher(resolver_for(port, HOST), timeout=2, ca_file=cert)
    r6 = fetcher.fetch(f"https://{HOST}:{port}/", 6, keep_body=True)
    assert r6.ok, r6.status
    assert r6.address == "::1" and r6.body == f"ipv6 {HOST}:{port}".encode()
    assert HOST in sni
    assert r6.timings.tls_ms is not None and r6.timings.first_byte_ms is not None
    r4 = fetcher.fetch(f"https://{HOST}:{port}/", 4, keep_body=True)
    assert r4.body.startswith(b"ipv4") and r4.address == "127.0.0.1"


def test_https_certificate_for_another_name_is_a_tls_error(tls):
    port, cert, _ = tls
    fetcher = FamilyFetcher(resolver_for(port, "other.tls.test"), timeout=2, ca_file=cert)
    result = fetcher.fetch(f"https://other.tls.test:{port}/", 6)
    assert result.status.kind is StatusKind.TLS_ERROR and not result.answered


def test_untrusted_certificate_fails_unless_verification_is_off(tls):
    port, _, _ = tls
    url = f"https://{HOST}:{port}/"
    assert FamilyFetcher(resolver_for(port, HOST), timeout=2).fetch(url, 6).status.kind is (
        StatusKind.TLS_ERROR
    )
    assert FamilyFetcher(resolver_for(port, HOST), timeout=2, verify_tls=False).fetch(url, 6).ok


@pytest.fixture(scope="module")
def plain():
    v4, v6 = dual_http()
    for srv in (v4, v6):
        srv.route("/loop-a", status=302, headers={"Location": "/loop-b"})
        srv.route("/loop-b", status=302, headers={"Location": "/loop-a"})
        srv.route("/once", delay=0.3, html="<p>slow once</p>")
        srv.route("/%E6%94%BF%E5%8A%A1.html", html="<p>政务</p>")
    v6.route("/slow", delay=10, html="late")
    v4.route("/slow", html="fast")
    with v4, v6:
        yield v4, v6


def test_concurrent_callers_share_one_request_per_family(plain):
    v4, v6 = plain
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=2)
    url = f"http://a.test:{v4.port}/once"
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda fam: fetcher.fetch(url, fam), [4, 6] * 8))
    assert all(r.ok for r in results)
    assert len(v4.requests_for("/once")) == 1 and len(v6.requests_for("/once")) == 1


def test_redirect_loop_is_typed(plain):
    v4, _ = plain
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=2)
    result = fetcher.fetch(f"http://a.test:{v4.port}/loop-a", 6)
    assert result.status.kind is StatusKind.REDIRECT_LOOP and len(result.redirects) == 2


def test_chinese_path_is_percent_encoded(plain):
    v4, _ = plain
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=2)
    result = fetcher.fetch(f"http://a.test:{v4.port}/政务.html", 6, keep_body=True)
    assert result.code == 200 and "政务" in result.text()


def test_a_server_that_never_answers_times_out(plain):
    v4, _ = plain
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=0.5)
    start = time.monotonic()
    r6 = fetcher.fetch(f"http://a.test:{v4.port}/slow", 6)
    assert time.monotonic() - start < 3
    assert r6.status.kind is StatusKind.TIMEOUT
    assert fetcher.fetch(f"http://a.test:{v4.port}/slow", 4).ok


def test_no_aaaa_is_a_dns_failure_without_any_connection():
    srv = v4_only_http()
    with srv:
        resolver = Resolver(DnsConfig(resolve=[f"v4.test:{srv.port}:127.0.0.1"]), timeout=1)
        result = FamilyFetcher(resolver, timeout=1).fetch(f"http://v4.test:{srv.port}/", 6)
        assert result.status.kind is StatusKind.DNS_FAILURE and "AAAA" in result.status.detail
        refused = tcp_connect("::1", srv.port, 1)
        assert refused.status.kind is StatusKind.CONNECTION_REFUSED
        assert srv.requests == []


def test_dns_server_probe_over_ipv6():
    with DualDNS({"z.test": {"NS": ["ns.z.test"]}}, silent_v6=["quiet.test"]) as dns:
        ok = query_dns_server("::1", dns.port, "z.test", 1)
        assert ok.ok and ok.rcode == "NOERROR" and ok.authoritative
        silent = query_dns_server("::1", dns.port, "quiet.test", 0.3)
        assert silent.status.kind is StatusKind.TIMEOUT
        assert [q for q in dns.zone.queries if q[0] == "6"]


def test_distinct_urls_are_each_requested_once(plain):
    v4, _ = plain
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=2)
    urls = [f"http://a.test:{v4.port}/n{i}" for i in range(20)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda u: fetcher.fetch(u, 6), urls))
    assert [r.code for r in results] == [404] * 20
    assert fetcher.requests_made == 20


def test_an_address_that_hangs_is_given_up_after_three_timeouts(plain):
    v4, v6 = plain
    v6.route("/hang/*", delay=5, html="late")
    fetcher = FamilyFetcher(resolver_for(v4.port, "a.test"), timeout=0.3)
    start = time.monotonic()
    results = [fetcher.fetch(f"http://a.test:{v4.port}/hang/{i}", 6) for i in range(10)]
    assert time.monotonic() - start < 4  # not 10 × 0.3 s of waiting, let alone 10 × 5 s
    assert {r.status.kind for r in results} == {StatusKind.TIMEOUT}
    assert len([r for r in v6.requests if r.path.startswith("/hang/")]) == 3
    assert "not retried" in results[-1].status.detail


def test_a_refused_address_is_not_dialled_again():
    srv = v4_only_http()
    with srv:
        resolver = Resolver(
            DnsConfig(resolve=[f"r.test:{srv.port}:127.0.0.1", f"r.test:{srv.port}:::1"]), timeout=1
        )
        fetcher = FamilyFetcher(resolver, timeout=1)
        first = fetcher.fetch(f"http://r.test:{srv.port}/a", 6)
        again = fetcher.fetch(f"http://r.test:{srv.port}/b", 6)
        assert first.status.kind is again.status.kind is StatusKind.CONNECTION_REFUSED
        assert "not retried" in again.status.detail and again.timings.connect_ms is None
        assert fetcher.fetch(f"http://r.test:{srv.port}/b", 4).code == 404


def test_unverified_certificate_is_noted_and_compared_with_fallback(tls):
    port, _, _ = tls
    fetcher = FamilyFetcher(resolver_for(port, HOST), timeout=2, tls_fallback=True)
    result = fetcher.fetch(f"https://{HOST}:{port}/", 6)
    assert result.ok and result.tls_verified is False
    assert "self-signed" in result.tls_problem or "certificate" in result.tls_problem


def test_ipv6_certificate_that_does_not_verify_makes_the_homepage_unreachable(tmp_path):
    good_cert, good_key = make_cert(tmp_path, "good-")
    bad_cert, bad_key = make_cert(tmp_path, "bad-")  # same name, but nobody trusts it
    v4, v6 = dual_http()
    for srv, (cert, key) in ((v4, (good_cert, good_key)), (v6, (bad_cert, bad_key))):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.route("/", html="<html><body><h1>首页</h1></body></html>")
        srv._server.socket = ctx.wrap_socket(srv._server.socket, server_side=True)
    url = f"https://{HOST}:{v4.port}/"
    with v4, v6:
        store = Store(tmp_path / "govaudit.sqlite")
        run_id = store.create_run(site=url, config={}, start_urls=[url])
        store.add_pages(run_id, [Page(url=url, final_url=url, status_code=200, html="")])
        pins = [f"{HOST}:{v4.port}:127.0.0.1", f"{HOST}:{v4.port}:::1"]
        config = config_from_dict(
            {
                "site": {"urls": [url]},
                "dns": {"resolve": pins},
                "plugins": {"ipv6": {"timeout": 2, "ports": [], "ca_file": good_cert}},
            }
        )
        result = run_audits(store, run_id, config, ["ipv6"], resolver=Resolver(config.dns))
    [finding] = result.findings
    assert finding["rule"] == "ipv6.unreachable"
    assert (
        finding["evidence"]["error"] == "tls_error" and finding["evidence"]["protocol"] == "HTTPS"
    )
    home = result.site_data["ipv6.homepage"]
    assert (home["ipv4"]["tls_verified"], home["ipv6"]["tls_verified"]) == (True, False)
