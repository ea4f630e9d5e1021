"""Each unit's list by email, through a real SMTP server (aiosmtpd) on loopback.

The run is built by the real reports engine (findings.json, 整改清单.xlsx, units/*.xlsx);
``govaudit mail`` runs through the CLI (in-process, or as a subprocess where that matters).
"""

from __future__ import annotations

import datetime as dt
import email
import io
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.config import load_config
from govaudit.cli import main
from reports import mail
from reports.output import write_run_outputs
from reports.store import Store

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH")

TODAY = "2026-11-25"
PASSWORD = "s3cret-Pässword-9f2c"
UNITS = {
    "综合组": ["zhz@example.gov.cn"],
    "政策法规组": ["zcfg@example.gov.cn"],
    "财务审计组": ["cwsj@example.gov.cn"],  # nothing open: gets nothing
    "信息中心": ["xxzx@example.gov.cn"],
}
HOSTILE = "<script>alert(1)</script>"
FINDINGS = [
    ("综合组", "error", "会议公开栏目超过14天未更新" + HOSTILE, "/hygk/"),
    ("综合组", "warning", "政府信息公开指南未标注更新日期", "/zwgk/zn/"),
    ("政策法规组", "warning", "规范性文件链接无法访问：/gfxwj/7.html", "/gfxwj/"),
    ("信息中心", "info", "“关于我们”页面的标题为空", "/about/"),
]


# ---- fixtures -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """aiosmtpd handler: records every accepted message; refuses some recipients."""

    def __init__(self, reject: tuple[str, ...] = ()) -> None:
        self.messages: list[dict] = []
        self.reject = set(reject)
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "msg": email.message_from_bytes(envelope.original_content, policy=policy.default),
                "raw": envelope.original_content,
                "tls": session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
                "auth": session.authenticated,
            }
        )
        return "250 Message accepted"

    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            self.logins.append((auth_data.login, auth_data.password))
            ok = auth_data.login == b"govaudit" and auth_data.password == PASSWORD.encode()
            return AuthResult(success=ok, handled=False)
        return AuthResult(success=False, handled=False)


def start_smtp(recorder: Recorder, port: int | None = None, **kwargs) -> Controller:
    ctl = Controller(recorder, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    ctl.start()
    return ctl


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def write_config(path: Path, data_dir: Path, mail_opts: dict, units: dict = UNITS) -> Path:
    lines = [
        f"data_dir = {toml_value(str(data_dir))}",
        "",
        "[site]",
        'name = "示例市自然资源和规划局"',
    ]
    lines.append('urls = ["http://www.demo.gov.cn/"]')
    lines += ["", "[mail]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in mail_opts.items()]
    for name, emails in units.items():
        lines += ["", "[[units.unit]]", f"name = {toml_value(name)}"]
        lines.append(f"emails = {toml_value(emails)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def build_run(data_dir: Path, config_path: Path) -> int:
    """A succeeded run with findings, reports written by the real reports engine."""
    config = load_config(config_path)
    store = Store.in_dir(data_dir)
    run_id = store.create_run(
        "http://www.demo.gov.cn/", config.model_dump(mode="json"), ["http://www.demo.gov.cn/"]
    )
    rows = []
    for i, (unit, sev, message, path) in enumerate(FINDINGS):
        rows.append(
            {
                "plugin": "example",
                "rule": "example.title_missing",
                "severity": sev,
                "url": f"http://www.demo.gov.cn{path}x{i}.html",
                "page": f"http://www.demo.gov.cn{path}",
                "message": message,
                "evidence": {"title": HOSTILE},
                "unit": unit,
                "fingerprint": f"fp{i:04d}",
            }
        )
    store.replace_findings(run_id, rows)
    write_run_outputs(store, run_id, config, None, today=dt.date.fromisoformat(TODAY))
    store.finish_run(run_id, "succeeded")
    store.engine.dispose()
    return run_id


@pytest.fixture(scope="module")
def built_run(tmp_path_factory) -> tuple[Path, int]:
    """One run built by the reports engine, copied for each test (it takes seconds)."""
    root = tmp_path_factory.mktemp("built")
    cfg = write_config(root / "govaudit.toml", root / "data", {"sender": "govaudit@example.gov.cn"})
    return root / "data", build_run(root / "data", cfg)


@pytest.fixture
def env(tmp_path, monkeypatch, built_run):
    monkeypatch.setenv("GOVAUDIT_TODAY", TODAY)
    monkeypatch.setenv("GOVAUDIT_SMTP_PASSWORD", PASSWORD)

    def make(mail_opts: dict, units: dict = UNITS) -> tuple[Path, int]:
        data = tmp_path / "data"
        shutil.copytree(built_run[0], data)
        cfg = write_config(tmp_path / "govaudit.toml", data, mail_opts, units)
        return cfg, built_run[1]

    return make


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, generated now; (server context, cert path)."""
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tmp_path = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = tmp_path / "cert.pem"
    key_pem = tmp_path / "key.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert_pem, key_pem)
    return ctx, cert_pem


def base_mail(port: int, **extra) -> dict:
    return {
        "host": "127.0.0.1",
        "port": port,
        "sender": "govaudit@example.gov.cn",
        "info_centre": ["xxzx-leader@example.gov.cn"],
        "retries": 3,
        "backoff_seconds": 0.2,
        **extra,
    }


def subject(msg) -> str:
    return str(make_header(decode_header(msg["Subject"])))


def by_unit(messages: list[dict]) -> dict[str, dict]:
    out = {}
    for m in messages:
        unit = m["msg"].get("X-Govaudit-Unit")
        out[str(unit) if unit else mail.SUMMARY] = m
    return out


def attachment_rows(msg) -> tuple[str, list[list]]:
    parts = list(msg.iter_attachments())
    assert len(parts) == 1
    part = parts[0]
    wb = openpyxl.load_workbook(io.BytesIO(part.get_content()))
    cells = [
        [c for c in row if c is not None]
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
    ]
    return part.get_filename(), cells


def texts_of(cells: list[list]) -> str:
    return "\n".join(str(c) for row in cells for c in row)


# ---- tests --------------------------------------------------------------------------------


def test_each_unit_receives_exactly_its_findings(env, capsys):
    rec = Recorder()
    ctl = start_smtp(rec)
    try:
        cfg, run_id = env(base_mail(ctl.port))
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 0
    finally:
        ctl.stop()
    got = by_unit(rec.messages)
    assert set(got) == {"综合组", "政策法规组", "信息中心", mail.SUMMARY}  # not 财务审计组
    assert len(rec.messages) == 4
    for unit, m in got.items():
        msg = m["msg"]
        if unit == mail.SUMMARY:
            assert m["to"] == ["xxzx-leader@example.gov.cn"]
            assert subject(msg) == f"【网站检查】整改情况汇总（{TODAY}）"
            name, cells = attachment_rows(msg)
            assert name == f"整改清单（{TODAY}）.xlsx"
            text = texts_of(cells)
            assert all(f[2] in text for f in FINDINGS)  # the full workbook
            continue
        assert m["to"] == UNITS[unit]
        assert subject(msg) == f"【网站检查】{unit}整改清单（{TODAY}）"
        assert msg["From"].addresses[0].display_name == "网站检查"
        mine = [f[2] for f in FINDINGS if f[0] == unit]
        others = [f[2] for f in FINDINGS if f[0] != unit]
        html = msg.get_body(("html",)).get_content()
        plain = msg.get_body(("plain",)).get_content()
        for text in mine:
            assert text.replace(HOSTILE, "") in plain
            assert text.replace(HOSTILE, "") in html
        for text in others:
            assert text.replace(HOSTILE, "") not in html
            assert text.replace(HOSTILE, "") not in plain
        assert "<script>" not in html  # crawled text is escaped
        if unit == "综合组":
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert HOSTILE in plain
        name, cells = attachment_rows(msg)
        assert name == f"{unit}整改清单（{TODAY}）.xlsx"
        text = texts_of(cells)
        assert all(t in text for t in mine) and not any(t in text for t in others)
        # Headers are ASCII on the wire (RFC 2047) and the Message-ID is stable per run+unit.
        assert m["raw"].isascii()
        assert msg["Message-ID"].startswith(f"<govaudit.{run_id}.")
    out = capsys.readouterr().out
    assert "4 of 4 message(s) sent" in out


def test_auth_and_starttls_and_password_never_stored(
    env, tmp_path, caplog, capsys, monkeypatch, tls
):
    """STARTTLS with a self-signed cert made here (trusted through SSL_CERT_FILE), AUTH
    with the password from the environment; the password appears nowhere."""
    ctx, cert_pem = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_pem))
    caplog.set_level("DEBUG")

    rec = Recorder()
    ctl = start_smtp(
        rec,
        tls_context=ctx,
        require_starttls=True,
        authenticator=rec.authenticator,
        auth_required=True,
    )
    try:
        cfg, run_id = env(
            base_mail(
                ctl.port,
                security="starttls",
                user="govaudit",
                password_env="GOVAUDIT_SMTP_PASSWORD",
            )
        )
        assert main(["-v", "mail", str(run_id), "--config", str(cfg)]) == 0
    finally:
        ctl.stop()
    assert len(rec.messages) == 4
    assert all(m["tls"] and m["auth"] for m in rec.messages)
    assert rec.logins and all(p == PASSWORD.encode() for _, p in rec.logins)
    out = capsys.readouterr().out
    haystack = [out, caplog.text]
    data_dir = tmp_path / "data"
    for f in data_dir.rglob("*"):
        if f.is_file():
            haystack.append(f.read_bytes().decode("latin-1"))
    for text in haystack:
        assert PASSWORD not in text
        assert PASSWORD.encode("utf-8").decode("latin-1") not in text


def test_implicit_ssl(env, tls, monkeypatch):
    ctx, cert_pem = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_pem))
    rec = Recorder()
    ctl = start_smtp(rec, ssl_context=ctx)
    try:
        cfg, run_id = env(base_mail(ctl.port, security="ssl"))
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 0
    finally:
        ctl.stop()
    assert len(rec.messages) == 4 and all(m["tls"] for m in rec.messages)


def test_untrusted_certificate_is_refused(env, tls, capsys):
    ctx, _cert = tls  # SSL_CERT_FILE not set: the self-signed certificate is not trusted
    rec = Recorder()
    ctl = start_smtp(rec, ssl_context=ctx)
    try:
        cfg, run_id = env(base_mail(ctl.port, security="ssl", retries=0))
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 1
    finally:
        ctl.stop()
    assert rec.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().out


def test_wrong_password_keeps_messages_queued(env, tmp_path, monkeypatch, capsys):
    rec = Recorder()
    ctl = start_smtp(
        rec, authenticator=rec.authenticator, auth_required=True, auth_require_tls=False
    )
    try:
        monkeypatch.setenv("GOVAUDIT_SMTP_PASSWORD", "wrong-password")
        cfg, run_id = env(
            base_mail(ctl.port, user="govaudit", password_env="GOVAUDIT_SMTP_PASSWORD", retries=1)
        )
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 1
        assert rec.messages == []
        out = capsys.readouterr().out
        assert "authentication as govaudit failed" in out and "wrong-password" not in out
        store = Store.in_dir(tmp_path / "data")
        rows = mail.outbox_rows(store, run_id)
        assert len(rows) == 4 and {r["status"] for r in rows} == {"failed"}
        # The password is fixed: the same command sends every message, once.
        monkeypatch.setenv("GOVAUDIT_SMTP_PASSWORD", PASSWORD)
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 0
        assert len(rec.messages) == 4
        assert {r["status"] for r in mail.outbox_rows(store, run_id)} == {"sent"}
    finally:
        ctl.stop()


def test_smtp_down_then_up_delivers_each_message_exactly_once(env, tmp_path, capsys):
    port = free_port()
    cfg, run_id = env(base_mail(port, retries=6, backoff_seconds=0.4))
    proc = subprocess.Popen(
        [sys.executable, "-m", "govaudit.cli", "mail", str(run_id), "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "GOVAUDIT_TODAY": TODAY},
    )
    store = Store.in_dir(tmp_path / "data")
    # Wait until the first attempts have failed (server down), then bring it up.
    deadline = time.monotonic() + 90  # generous: a loaded CI machine starts Python slowly
    while time.monotonic() < deadline:
        rows = mail.outbox_rows(store, run_id)
        if rows and all(r["attempts"] >= 2 for r in rows):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the outbox was never retried")
    rec = Recorder()
    ctl = start_smtp(rec, port=port)
    try:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        assert "not sent yet" in out and "4 of 4 message(s) sent" in out
        ids = [m["msg"]["Message-ID"] for m in rec.messages]
        assert len(ids) == 4 and len(set(ids)) == 4
        rows = mail.outbox_rows(store, run_id)
        assert all(r["status"] == "sent" and r["attempts"] >= 3 for r in rows)
        # Mailing the same run again queues nothing and sends nothing.
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 0
        assert "0 newly queued" in capsys.readouterr().out
        assert len(rec.messages) == 4
    finally:
        ctl.stop()


def test_bad_and_refused_recipients_reported_others_delivered(env, capsys):
    units = dict(UNITS)
    units["综合组"] = ["not an address", "zhz@example.gov.cn"]
    units["政策法规组"] = ["nobody@example.gov.cn"]  # the server refuses it
    units["信息中心"] = ["xxzx@example.gov.cn", "left@example.gov.cn"]  # one of two refused
    rec = Recorder(reject=("nobody@example.gov.cn", "left@example.gov.cn"))
    ctl = start_smtp(rec)
    try:
        cfg, run_id = env(base_mail(ctl.port), units)
        assert main(["mail", str(run_id), "--config", str(cfg)]) == 1
    finally:
        ctl.stop()
    out = capsys.readouterr().out
    assert "unit 综合组: invalid address 'not an address'" in out
    assert "政策法规组: FAILED" in out and "nobody@example.gov.cn" in out and "550" in out
    got = by_unit(rec.messages)
    assert set(got) == {"综合组", "信息中心", mail.SUMMARY}
    assert got["综合组"]["to"] == ["zhz@example.gov.cn"]
    assert got["信息中心"]["to"] == ["xxzx@example.gov.cn"]
    assert "refused: 信息中心: left@example.gov.cn: 550" in out
    assert "3 of 4 message(s) sent" in out


def test_dry_run_writes_eml_files(env, tmp_path, capsys):
    cfg, run_id = env({"sender": "govaudit@example.gov.cn", "info_centre": ["xxzx@example.gov.cn"]})
    # No mail.host: dry run is the default, and nothing is queued.
    assert main(["mail", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    mail_dir = tmp_path / "data" / "runs" / str(run_id) / "mail"
    files = sorted(p.name for p in mail_dir.glob("*.eml"))
    assert files == sorted(["综合组.eml", "政策法规组.eml", "信息中心.eml", "信息中心汇总.eml"])
    assert str(mail_dir / "综合组.eml") in out and "no SMTP configured" in out
    msg = email.message_from_bytes((mail_dir / "综合组.eml").read_bytes(), policy=policy.default)
    assert subject(msg) == f"【网站检查】综合组整改清单（{TODAY}）"
    assert list(msg.iter_attachments())
    assert mail.outbox_rows(Store.in_dir(tmp_path / "data")) == []


def test_missing_unit_workbook_is_reported_and_others_built(env, tmp_path):
    cfg, run_id = env({"sender": "govaudit@example.gov.cn"})
    store = Store.in_dir(tmp_path / "data")
    (store.run_dir(run_id) / "units" / "政策法规组.xlsx").unlink()
    plan = mail.plan_run_mail(store, load_config(cfg), run_id)
    assert [p.unit for p in plan.messages] == ["综合组", "信息中心"]
    assert any("政策法规组" in p and "missing" in p for p in plan.problems)


def test_send_empty_mails_units_with_nothing_open(env, tmp_path):
    cfg, run_id = env({"sender": "govaudit@example.gov.cn", "send_empty": True})
    plan = mail.plan_run_mail(Store.in_dir(tmp_path / "data"), load_config(cfg), run_id)
    assert "财务审计组" in [p.unit for p in plan.messages]
    empty = next(p for p in plan.messages if p.unit == "财务审计组")
    assert "共 0 项" in empty.message.get_body(("plain",)).get_content()


def test_outbox_survives_concurrent_senders(env, tmp_path):
    """Two senders over the same outbox (service + a manual 'govaudit mail'): no duplicates."""
    rec = Recorder()
    ctl = start_smtp(rec)
    try:
        cfg, run_id = env(base_mail(ctl.port))
        config = load_config(cfg)
        store = Store.in_dir(tmp_path / "data")
        mail.queue_run(store, config, run_id)
        results: list = []
        store2 = Store.in_dir(tmp_path / "data")
        threads = [
            threading.Thread(
                target=lambda s=s: results.extend(mail._send_due(s, config, None, None, 10))
            )
            for s in (store, store2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        ctl.stop()
    assert len(rec.messages) == 4
    assert sorted(d.row_id for d in results if d.status == "sent") == [1, 2, 3, 4]
    con = sqlite3.connect(tmp_path / "data" / "govaudit.sqlite")
    assert con.execute("select count(*) from outbox where status='sent'").fetchone()[0] == 4
