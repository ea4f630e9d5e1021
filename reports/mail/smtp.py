"""SMTP delivery of one message: connection (TLS verified), login with the password read
from the environment at that moment (never logged or stored), and 4xx/5xx classified as
retry-later or give-up. Knows nothing of planning or the outbox table.
"""

from __future__ import annotations

import base64
import os
import smtplib
import ssl

from core.config import Config
from reports.mail.common import MailError


class _Transient(Exception):
    """Worth retrying later: the server is down, busy (4xx) or dropped the connection."""


class _Permanent(Exception):
    """Retrying will not help (5xx for this message)."""

    def __init__(self, message: str, refused: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.refused = refused or {}


def smtp_configured(config: Config) -> bool:
    return bool(config.mail.host)


def smtp_password(config: Config) -> str | None:
    """The SMTP password from the environment (None without mail.user); MailError if unset."""
    name = config.mail.password_env
    if not config.mail.user:
        return None
    if not name:
        raise MailError("mail.user is set but mail.password_env is not: name the variable")
    value = os.environ.get(name)
    if value is None:
        raise MailError(f"mail.password_env: the environment variable {name} is not set")
    return value


def connect(config: Config, timeout: float = 30.0) -> smtplib.SMTP:
    """An authenticated SMTP connection as configured (TLS verified against system CAs;
    SSL_CERT_FILE points OpenSSL at an internal CA)."""
    m = config.mail
    if not m.host:
        raise MailError("mail.host is not set")
    password = smtp_password(config)
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if m.security == "ssl":
            client = smtplib.SMTP_SSL(m.host, m.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(m.host, m.port, timeout=timeout)
        try:
            client.ehlo()
            if m.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if m.user and password is not None:
                _login(client, m.user, password)
        except BaseException:
            _quit(client)
            raise
    except smtplib.SMTPAuthenticationError as exc:
        raise _Transient(f"authentication as {m.user} failed ({exc.smtp_code})") from None
    except Exception as exc:  # OSError, SMTPException, ssl errors …: the server is unusable now
        raise _Transient(f"cannot connect to {m.host}:{m.port}: {_short(exc)}") from None
    return client


def _login(client: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib.login, except that a non-ASCII user or password goes as UTF-8 (RFC 4616 PLAIN);
    smtplib itself only encodes ASCII."""
    if (user + password).isascii():
        client.login(user, password)
        return
    if not client.has_extn("auth") or "PLAIN" not in client.esmtp_features["auth"].upper().split():
        raise smtplib.SMTPException("a non-ASCII user or password needs AUTH PLAIN")
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, resp = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, resp)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _code_text(value: tuple[int, bytes | str]) -> str:
    code, msg = value
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    return f"{code} {msg}"


def _quit(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except Exception:
        try:
            client.close()
        except Exception:
            pass


def _deliver(client: smtplib.SMTP, sender: str, recipients: list[str], eml: bytes) -> dict:
    try:
        refused = client.sendmail(sender, recipients, eml)
    except smtplib.SMTPRecipientsRefused as exc:
        detail = {a: _code_text(v) for a, v in exc.recipients.items()}
        if all(v[0] >= 500 for v in exc.recipients.values()):
            raise _Permanent("all recipients refused", detail) from None
        raise _Transient("recipients temporarily refused: " + "; ".join(detail.values())) from None
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        if exc.smtp_code >= 500:
            raise _Permanent(_short(exc)) from None
        raise _Transient(_short(exc)) from None
    except smtplib.SMTPResponseException as exc:
        if exc.smtp_code >= 500:
            raise _Permanent(_short(exc)) from None
        raise _Transient(_short(exc)) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise _Transient(_short(exc)) from None
    return {a: _code_text(v) for a, v in refused.items()}


def _alive(client: smtplib.SMTP) -> bool:
    try:
        return client.noop()[0] == 250
    except Exception:
        return False
