"""Each unit's rectification list by email, through an outbox in the run database.

Flow: :func:`plan_run_mail` builds one message per unit with open findings (HTML body,
plain-text alternative, the unit's own ``units/<unit>.xlsx``) and one summary for the
information centre (with the full ``整改清单.xlsx``). :func:`enqueue` writes them to the
``outbox`` table; :func:`send_due` sends what is due, with retries and exponential backoff.

Exactly-once: every message has a Message-ID derived from the run and the unit, and the
outbox has one row per Message-ID, so queueing a run twice queues nothing new. A row is
claimed (``sending``) before it goes out and marked ``sent`` in one transaction as soon as
the server accepted it. Only a crash in the instant between the server's acceptance and that
commit can repeat a message — and then with the same Message-ID, which clients de-duplicate.

The SMTP password is read from the environment variable named by ``mail.password_env`` at
the moment of login; it is never logged, stored or written into a message.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import logging
import os
import re
import smtplib
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)

from core.config import Config, ConfigError
from reports.files import atomic_write
from reports.store import Store, create_schema, utcnow

log = logging.getLogger(__name__)

#: Outbox key of the information centre's summary message (not a unit name).
SUMMARY = "*summary*"
SUMMARY_LABEL = "信息中心汇总"

#: Headers in RFC 2047 form, bodies base64/quoted-printable: the .eml files are plain ASCII.
POLICY = email_policy.SMTP.clone(cte_type="7bit")

#: Rows shown in an email's table; the attachment always has every finding.
MAX_ROWS = 300

SEV_ZH = {"error": "严重", "warning": "警告", "info": "提示"}
STATE_ZH = {
    "new": "新发现",
    "open": "仍未整改",
    "still_open": "仍未整改",
    "persisting": "仍未整改",
    "fixed": "已整改",
}
CLOSED_STATES = {"fixed", "已整改", "resolved"}

outbox_metadata = MetaData()

outbox = Table(
    "outbox",
    outbox_metadata,
    Column("id", Integer, primary_key=True),
    Column("message_id", String, unique=True, nullable=False),
    Column("run_id", Integer, nullable=False, index=True),
    Column("unit", String, nullable=False),  # unit name, or SUMMARY
    Column("recipients", JSON, nullable=False),
    Column("subject", Text),
    Column("eml", LargeBinary, nullable=False),
    Column("status", String, nullable=False, index=True),  # pending|sending|sent|failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime),
    Column("last_error", Text),
    Column("permanent", Boolean, default=False),  # failed for good (5xx), not an outage
    Column("refused", JSON),  # {address: "code message"} the server rejected
    Column("created_at", DateTime),
    Column("sent_at", DateTime),
    Column("claimed_by", Integer),  # pid of the sender while status == sending
)

_send_lock = threading.Lock()


class MailError(Exception):
    """A mail problem that stops sending altogether (e.g. the password variable is unset)."""


# ---- planning -------------------------------------------------------------------------


@dataclass
class Planned:
    """One message ready for the outbox (or for a .eml file)."""

    unit: str  # unit name or SUMMARY
    recipients: list[str]
    message: EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def label(self) -> str:
        return SUMMARY_LABEL if self.unit == SUMMARY else self.unit


@dataclass
class MailPlan:
    run_id: int
    messages: list[Planned] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per unit, Chinese-free log text
    skipped: list[str] = field(default_factory=list)  # units with nothing open


ADDRESS_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"
)


def valid_address(addr: str) -> bool:
    """A plain addr-spec (local@domain) with nothing a header could be smuggled through."""
    if not ADDRESS_RE.match(addr) or ".." in addr:
        return False
    try:
        Address(addr_spec=addr)
    except (ValueError, IndexError, TypeError):
        return False
    return True


def safe_name(name: str) -> str:
    """A unit name as a file name (what the reports writer does for units/<unit>.xlsx)."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", name).strip().lstrip(".") or "unit"
    return cleaned[:100]


def unit_file(run_dir: Path, unit: str, ext: str) -> Path | None:
    """The unit's own file written by the reports (``units/<unit>.<ext>``), if present."""
    names = [safe_name(unit)]
    try:
        from reports.bundle import unit_filename

        names.insert(0, unit_filename(unit))
    except ImportError:
        pass
    for candidate in dict.fromkeys(names):
        path = run_dir / "units" / f"{candidate}.{ext}"
        if path.is_file():
            return path
    return None


def message_id_for(run_id: int, site: str, started_at: str, unit: str, sender: str) -> str:
    """Stable per run and unit: the same message queued twice has the same Message-ID."""
    domain = sender.rpartition("@")[2] or "localhost"
    run_key = hashlib.sha1(f"{site}\n{started_at}".encode()).hexdigest()[:10]
    unit_key = hashlib.sha1(unit.encode("utf-8")).hexdigest()[:12]
    return f"<govaudit.{run_id}.{run_key}.{unit_key}@{domain}>"


def _rules() -> dict[str, Any]:
    try:
        from audits.runner import all_rules

        return {rid: spec for rid, (_plugin, spec) in all_rules().items()}
    except Exception as exc:  # rule metadata is decoration here; never block mail on it
        log.warning("rule metadata unavailable: %s", exc)
        return {}


def mail_date(doc: dict[str, Any], today: date | None = None) -> date:
    """The date in subjects: --today / GOVAUDIT_TODAY if given, else the run's start (local)."""
    if today:
        return today
    env = os.environ.get("GOVAUDIT_TODAY")
    if env:
        try:
            return date.fromisoformat(env)
        except ValueError:
            pass
    started = (doc.get("run") or {}).get("started_at")
    if started:
        try:
            from datetime import UTC

            ts = datetime.fromisoformat(str(started).replace("Z", "+00:00"))
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=UTC)
            return ts.astimezone().date()
        except ValueError:
            pass
    return date.today()


def is_open(finding: dict[str, Any]) -> bool:
    return not finding.get("ignored") and str(finding.get("state") or "") not in CLOSED_STATES


def _row(f: dict[str, Any], rules: dict[str, Any], today: date) -> dict[str, Any]:
    spec = rules.get(f.get("rule") or "")
    deadline = str(f.get("deadline") or "")
    overdue = bool(f.get("overdue"))
    if not overdue and deadline:
        try:
            overdue = date.fromisoformat(deadline[:10]) < today
        except ValueError:
            pass
    sev = str(f.get("severity") or "")
    return {
        "severity": sev,
        "severity_zh": SEV_ZH.get(sev, sev),
        "rule": f.get("rule") or "",
        "title": getattr(spec, "title", "") or f.get("rule") or "",
        "message": f.get("message") or "",
        "page": f.get("page") or "",
        "url": f.get("url") or "",
        "advice": getattr(spec, "advice", "") or "",
        "regulation": getattr(spec, "regulation", "") or "",
        "state": STATE_ZH.get(str(f.get("state") or ""), str(f.get("state") or "")),
        "first_seen": str(f.get("first_seen") or "")[:10],
        "deadline": deadline[:10],
        "overdue": overdue,
    }


class _Tally:
    """A unit's open findings: counts of all of them, rows of the first MAX_ROWS."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.c: Counter[str] = Counter()

    def add(self, row: dict[str, Any]) -> None:
        self.c["total"] += 1
        self.c[row["severity"]] += 1
        self.c["new"] += row["state"] == STATE_ZH["new"]
        self.c["overdue"] += bool(row["overdue"])
        if len(self.rows) < MAX_ROWS:
            self.rows.append(row)

    def merge(self, other: _Tally) -> None:
        self.c.update(other.c)

    @property
    def total(self) -> int:
        return self.c["total"]

    def counts(self) -> dict[str, int]:
        return {k: self.c[k] for k in ("total", "error", "warning", "info", "new", "overdue")}


def plan_run_mail(store: Store, config: Config, run_id: int, today: date | None = None) -> MailPlan:
    """Build (but do not send or store) every message of run ``run_id``."""
    from reports.bundle import run_document
    from reports.views import FindingSet

    run_dir = store.data_dir / "runs" / str(run_id)
    if not (run_dir / "findings.json").is_file():
        raise MailError(
            f"{run_dir / 'findings.json'} does not exist: the run has no reports to mail"
        )
    # The findings as the run's reports wrote them (the store keeps their tracking
    # state), streamed: only the rows a message shows are held.
    row = store.run_row(run_id) or {}
    doc = run_document(store, run_id, str(row.get("status") or ""))
    run = doc.get("run") or {}
    day = mail_date(doc, today)
    rules = _rules()
    plan = MailPlan(run_id)
    sender = config.mail.sender
    if not valid_address(sender):
        raise ConfigError(f"mail.sender: {sender!r} is not an email address")

    by_unit: dict[str, _Tally] = {}
    for f in FindingSet(store, run_id):  # errors first, then by rule, page, address
        if is_open(f):
            unit_name = f.get("unit") or config.units.default
            by_unit.setdefault(unit_name, _Tally()).add(_row(f, rules, day))
    configured = {u.name: u for u in config.units.unit}
    units = list(dict.fromkeys([*by_unit, *configured]))
    site_name = config.site.name or str(run.get("site") or "")
    common = {"site_name": site_name, "site": run.get("site") or "", "run": run, "day": day}
    summary_units: list[dict[str, Any]] = []

    for unit in units:
        tally = by_unit.get(unit) or _Tally()
        rows = tally.rows
        entry = {"unit": unit, "counts": tally.counts(), "mail": ""}
        summary_units.append(entry)
        if not tally.total and not config.mail.send_empty:
            plan.skipped.append(unit)
            entry["mail"] = "无未整改问题，未发送"
            continue
        addresses = configured[unit].emails if unit in configured else []
        good = [a for a in addresses if valid_address(a)]
        for bad in (a for a in addresses if not valid_address(a)):
            plan.problems.append(f"unit {unit}: invalid address {bad!r} (units.unit.emails)")
        if not good:
            plan.problems.append(
                f"unit {unit}: {tally.total} open finding(s) but no valid email address; "
                "add it under [[units.unit]] emails"
            )
            entry["mail"] = "无有效邮箱，未发送"
            continue
        xlsx = unit_file(run_dir, unit, "xlsx")
        if xlsx is None and tally.total:
            plan.problems.append(
                f"unit {unit}: {run_dir / 'units' / (safe_name(unit) + '.xlsx')} is missing; "
                "no message built"
            )
            entry["mail"] = "缺少整改清单附件，未发送"
            continue
        subject = f"【网站检查】{unit}整改清单（{day.isoformat()}）"
        context = {**common, "unit": unit, "rows": rows, "counts": tally.counts()}
        msg = _message(
            sender,
            good,
            subject,
            message_id_for(run_id, str(run.get("site")), str(run.get("started_at")), unit, sender),
            _render(UNIT_TEXT, context, html=False),
            _render(UNIT_HTML, context, html=True),
            [(xlsx, f"{unit}整改清单（{day.isoformat()}）.xlsx")] if xlsx else [],
        )
        msg["X-Govaudit-Unit"] = unit
        msg["X-Govaudit-Run"] = str(run_id)
        plan.messages.append(Planned(unit, good, msg))
        entry["mail"] = "、".join(good)

    info = [a for a in config.mail.info_centre if valid_address(a)]
    for bad in (a for a in config.mail.info_centre if not valid_address(a)):
        plan.problems.append(f"info centre: invalid address {bad!r} (mail.info_centre)")
    workbook = run_dir / "整改清单.xlsx"
    if info:
        if not workbook.is_file():
            plan.problems.append(f"info centre: {workbook} is missing; no summary built")
        else:
            everything = _Tally()
            for tally in by_unit.values():
                everything.merge(tally)
            context = {
                **common,
                "units": summary_units,
                "counts": everything.counts(),
                "problems": list(plan.problems),
            }
            subject = f"【网站检查】整改情况汇总（{day.isoformat()}）"
            msg = _message(
                sender,
                info,
                subject,
                message_id_for(
                    run_id, str(run.get("site")), str(run.get("started_at")), SUMMARY, sender
                ),
                _render(SUMMARY_TEXT, context, html=False),
                _render(SUMMARY_HTML, context, html=True),
                [(workbook, f"整改清单（{day.isoformat()}）.xlsx")],
            )
            msg["X-Govaudit-Run"] = str(run_id)
            plan.messages.append(Planned(SUMMARY, info, msg))
    elif config.mail.info_centre:
        plan.problems.append("info centre: no valid address in mail.info_centre")
    return plan


XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _message(
    sender: str,
    to: list[str],
    subject: str,
    message_id: str,
    text: str,
    html: str,
    attachments: list[tuple[Path, str]],
) -> EmailMessage:
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address("网站检查", addr_spec=sender)
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    for path, filename in attachments:
        msg.add_attachment(
            path.read_bytes(), maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=filename
        )
    return msg


_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_text_env = Environment(autoescape=False, trim_blocks=True, lstrip_blocks=True)


def _render(template: str, context: dict[str, Any], html: bool) -> str:
    env = _env if html else _text_env
    return env.from_string(template).render(**context)


_STYLE = (
    "body{font-family:'Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#222;font-size:14px}"
    "table{border-collapse:collapse}th,td{border:1px solid #bbb;padding:4px 6px;"
    "vertical-align:top;text-align:left}th{background:#eef2f7}.error{color:#b00020}"
    ".overdue{color:#b00020;font-weight:bold}code{word-break:break-all}.nw{white-space:nowrap}"
)

UNIT_HTML = (
    """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<style>"""
    + _STYLE
    + """</style></head><body>
<p>{{ unit }}：</p>
<p>{{ day }} 对{{ site_name }}网站（{{ site }}）的检查（检查编号 {{ run.id }}）中，
贵单位负责的问题共 <b>{{ counts.total }}</b> 项：严重 {{ counts.error }} 项，
警告 {{ counts.warning }} 项，提示 {{ counts.info }} 项；其中新发现 {{ counts.new }} 项，
已逾期 <span class="overdue">{{ counts.overdue }}</span> 项。请在整改时限内完成整改，
完整清单见附件。</p>
<table>
<tr><th class="nw">序号</th><th class="nw">级别</th><th>问题类型</th><th>问题描述</th><th>所在页面</th><th>问题地址</th>
<th>整改建议</th><th>首次发现</th><th>整改时限</th><th>状态</th></tr>
{% for r in rows %}
<tr><td class="nw">{{ loop.index }}</td><td class="nw {{ r.severity }}">{{ r.severity_zh }}</td>
<td>{{ r.title }}<br><code>{{ r.rule }}</code></td><td>{{ r.message }}</td>
<td><code>{{ r.page }}</code></td><td><code>{{ r.url }}</code></td>
<td>{{ r.advice }}{% if r.regulation %}<br><small>依据：{{ r.regulation }}</small>{% endif %}</td>
<td class="nw">{{ r.first_seen }}</td><td class="nw{% if r.overdue %} overdue{% endif %}">{{ r.deadline }}{% if r.overdue %}（已逾期）{% endif %}</td>
<td class="nw">{{ r.state }}</td></tr>
{% endfor %}
</table>
{% if counts.total > rows|length %}<p>另有 {{ counts.total - rows|length }} 项未在正文列出，见附件。</p>{% endif %}
<p>此邮件由网站检查系统自动发送，请勿直接回复。如有疑问请联系信息中心。</p>
</body></html>
"""
)

UNIT_TEXT = """{{ unit }}：

{{ day }} 对{{ site_name }}网站（{{ site }}）的检查（检查编号 {{ run.id }}）中，贵单位负责的问题共 {{ counts.total }} 项：严重 {{ counts.error }} 项，警告 {{ counts.warning }} 项，提示 {{ counts.info }} 项；其中新发现 {{ counts.new }} 项，已逾期 {{ counts.overdue }} 项。完整清单见附件。

{% for r in rows %}
{{ loop.index }}. [{{ r.severity_zh }}] {{ r.title }}（{{ r.rule }}）{{ r.state }}
   问题描述：{{ r.message }}
{% if r.page %}   所在页面：{{ r.page }}
{% endif %}{% if r.url %}   问题地址：{{ r.url }}
{% endif %}{% if r.advice %}   整改建议：{{ r.advice }}
{% endif %}   整改时限：{{ r.deadline or "—" }}{{ "（已逾期）" if r.overdue else "" }}

{% endfor %}
{% if counts.total > rows|length %}另有 {{ counts.total - rows|length }} 项未在正文列出，见附件。
{% endif %}
此邮件由网站检查系统自动发送，请勿直接回复。
"""

SUMMARY_HTML = (
    """<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<style>"""
    + _STYLE
    + """</style></head><body>
<p>信息中心：</p>
<p>{{ day }} 对{{ site_name }}网站（{{ site }}）的检查（检查编号 {{ run.id }}）共有未整改问题
<b>{{ counts.total }}</b> 项：严重 {{ counts.error }} 项，警告 {{ counts.warning }} 项，
提示 {{ counts.info }} 项；新发现 {{ counts.new }} 项，已逾期 {{ counts.overdue }} 项。
抓取页面 {{ run.pages_crawled }} 个，检查链接 {{ run.links_checked }} 个。完整整改清单见附件。</p>
<table><tr><th>责任单位</th><th>问题数</th><th>严重</th><th>警告</th><th>提示</th><th>新发现</th>
<th>已逾期</th><th>邮件</th></tr>
{% for u in units %}
<tr><td>{{ u.unit }}</td><td>{{ u.counts.total }}</td><td>{{ u.counts.error }}</td>
<td>{{ u.counts.warning }}</td><td>{{ u.counts.info }}</td><td>{{ u.counts.new }}</td>
<td>{{ u.counts.overdue }}</td><td>{{ u.mail }}</td></tr>
{% endfor %}
</table>
{% if problems %}<p>邮件发送前发现的问题：</p><ul>{% for p in problems %}<li><code>{{ p }}</code></li>{% endfor %}</ul>{% endif %}
<p>此邮件由网站检查系统自动发送。</p>
</body></html>
"""
)

SUMMARY_TEXT = """信息中心：

{{ day }} 对{{ site_name }}网站（{{ site }}）的检查（检查编号 {{ run.id }}）共有未整改问题 {{ counts.total }} 项：严重 {{ counts.error }} 项，警告 {{ counts.warning }} 项，提示 {{ counts.info }} 项；新发现 {{ counts.new }} 项，已逾期 {{ counts.overdue }} 项。完整整改清单见附件。

{% for u in units %}
- {{ u.unit }}：{{ u.counts.total }} 项（严重 {{ u.counts.error }}，警告 {{ u.counts.warning }}，提示 {{ u.counts.info }}，已逾期 {{ u.counts.overdue }}）；邮件：{{ u.mail }}
{% endfor %}
{% if problems %}
邮件发送前发现的问题：
{% for p in problems %}- {{ p }}
{% endfor %}{% endif %}

此邮件由网站检查系统自动发送。
"""


# ---- dry run --------------------------------------------------------------------------


def write_eml(plan: MailPlan, run_dir: Path) -> list[Path]:
    """Write each planned message to ``<run_dir>/mail/<unit>.eml``; return the paths."""
    out: list[Path] = []
    for p in plan.messages:
        path = run_dir / "mail" / f"{safe_name(p.label)}.eml"
        atomic_write(path, p.message.as_bytes(policy=POLICY))
        out.append(path)
    return out


def write_run_eml(
    store: Store, config: Config, run_id: int, today: date | None = None
) -> tuple[list[Path], list[str]]:
    """Dry run of a run's mail (the demo, or no SMTP configured): the .eml paths written
    under ``runs/<id>/mail/`` and the problems found (bad addresses, missing files)."""
    plan = plan_run_mail(store, config, run_id, today)
    return write_eml(plan, store.data_dir / "runs" / str(run_id)), plan.problems


# ---- outbox ---------------------------------------------------------------------------


def ensure_outbox(store: Store) -> None:
    create_schema(store.engine, outbox_metadata)


def enqueue(store: Store, plan: MailPlan) -> list[int]:
    """Put the plan's messages into the outbox; messages already there are left alone.

    Returns the ids of the newly queued rows."""
    ensure_outbox(store)
    new: list[int] = []
    now = utcnow()
    with store.engine.begin() as conn:
        for p in plan.messages:
            exists = conn.execute(
                select(outbox.c.id).where(outbox.c.message_id == p.message_id)
            ).first()
            if exists:
                continue
            result = conn.execute(
                insert(outbox).values(
                    message_id=p.message_id,
                    run_id=plan.run_id,
                    unit=p.unit,
                    recipients=p.recipients,
                    subject=str(p.message["Subject"]),
                    eml=p.message.as_bytes(policy=POLICY),
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    refused={},
                )
            )
            new.append(int(result.inserted_primary_key[0]))
    return new


def requeue_failed(store: Store, run_id: int) -> int:
    """Failed-by-outage rows of a run go back to pending (not those the server refused)."""
    ensure_outbox(store)
    with store.engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(
                outbox.c.run_id == run_id,
                outbox.c.status == "failed",
                outbox.c.permanent.is_not(True),
            )
            .values(status="pending", attempts=0, next_attempt_at=utcnow())
        )
        return int(result.rowcount or 0)


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_stale_claims(store: Store) -> int:
    """Rows left ``sending`` by a sender that died go back to pending."""
    ensure_outbox(store)
    released = 0
    with store.engine.begin() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.claimed_by).where(outbox.c.status == "sending")
        ).all()
        for row_id, pid in rows:
            if pid == os.getpid() or _pid_alive(pid):
                continue
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.status == "sending")
                .values(status="pending", claimed_by=None)
            )
            released += 1
    return released


@dataclass
class Delivery:
    """What happened to one outbox row in one sending pass."""

    row_id: int
    unit: str
    recipients: list[str]
    status: str  # sent | retry | failed
    error: str = ""
    refused: dict[str, str] = field(default_factory=dict)
    attempts: int = 0

    @property
    def label(self) -> str:
        return SUMMARY_LABEL if self.unit == SUMMARY else self.unit

    def describe(self) -> str:
        to = ", ".join(self.recipients)
        if self.status == "sent":
            extra = (
                "; refused: " + "; ".join(f"{a} ({why})" for a, why in self.refused.items())
                if self.refused
                else ""
            )
            return f"{self.label}: sent to {to}{extra}"
        if self.status == "retry":
            return f"{self.label}: not sent yet (attempt {self.attempts}): {self.error}"
        return f"{self.label}: FAILED ({to}): {self.error}"


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


def send_due(
    store: Store,
    config: Config,
    now: datetime | None = None,
    run_id: int | None = None,
    connect_timeout: float = 30.0,
) -> list[Delivery]:
    """One sending pass over the due pending rows (of ``run_id``, or all)."""
    with _send_lock:
        return _send_due(store, config, now, run_id, connect_timeout)


def _send_due(
    store: Store,
    config: Config,
    now: datetime | None,
    run_id: int | None,
    connect_timeout: float,
) -> list[Delivery]:
    ensure_outbox(store)
    if not config.mail.host:
        raise MailError("mail.host is not set")
    smtp_password(config)  # a missing password variable stops here, before anything is claimed
    release_stale_claims(store)
    now = now or utcnow()
    q = select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(q.order_by(outbox.c.id)).mappings()]
    if not rows:
        return []
    results: list[Delivery] = []
    client: smtplib.SMTP | None = None
    connect_error = ""
    try:
        for row in rows:
            if not _claim(store, row["id"]):
                continue  # another sender took it
            delivery = Delivery(row["id"], row["unit"], list(row["recipients"]), "retry")
            delivery.attempts = row["attempts"] + 1
            try:
                if client is None:
                    if connect_error:
                        raise _Transient(connect_error)
                    try:
                        client = connect(config, connect_timeout)
                    except _Transient as exc:
                        connect_error = str(exc)
                        raise
                refused = _deliver(client, config.mail.sender, delivery.recipients, row["eml"])
                delivery.status, delivery.refused = "sent", refused
                _finish(
                    store, row["id"], status="sent", refused=refused, attempts=delivery.attempts
                )
            except _Permanent as exc:
                delivery.status, delivery.error, delivery.refused = "failed", str(exc), exc.refused
                _finish(
                    store,
                    row["id"],
                    status="failed",
                    error=str(exc),
                    refused=exc.refused,
                    attempts=delivery.attempts,
                    permanent=True,
                )
            except _Transient as exc:
                delivery.error = str(exc)
                if client is not None and not _alive(client):
                    _quit(client)
                    client = None
                if delivery.attempts > config.mail.retries:
                    delivery.status = "failed"
                    delivery.error = f"gave up after {delivery.attempts} attempts: {exc}"
                    _finish(
                        store,
                        row["id"],
                        status="failed",
                        error=delivery.error,
                        attempts=delivery.attempts,
                    )
                else:
                    # From the pass's start: rows that failed together are retried together.
                    delay = config.mail.backoff_seconds * 2 ** (delivery.attempts - 1)
                    _finish(
                        store,
                        row["id"],
                        status="pending",
                        error=str(exc),
                        attempts=delivery.attempts,
                        next_attempt_at=now + timedelta(seconds=min(delay, 6 * 3600)),
                    )
            except Exception as exc:  # a bug must not leave the row claimed for ever
                log.exception("mail row %s", row["id"])
                delivery.error = _short(exc)
                _finish(
                    store,
                    row["id"],
                    status="pending",
                    error=delivery.error,
                    attempts=delivery.attempts,
                    next_attempt_at=utcnow()
                    + timedelta(seconds=config.mail.backoff_seconds * 2 ** (delivery.attempts - 1)),
                )
                if delivery.attempts > config.mail.retries:
                    delivery.status = "failed"
                    _finish(
                        store,
                        row["id"],
                        status="failed",
                        error=delivery.error,
                        attempts=delivery.attempts,
                    )
            log.info("mail %s", delivery.describe())
            results.append(delivery)
    finally:
        if client is not None:
            _quit(client)
    return results


def _alive(client: smtplib.SMTP) -> bool:
    try:
        return client.noop()[0] == 250
    except Exception:
        return False


def _claim(store: Store, row_id: int) -> bool:
    with store.engine.begin() as conn:
        result = conn.execute(
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == "pending")
            .values(status="sending", claimed_by=os.getpid())
        )
        return bool(result.rowcount)


def _finish(
    store: Store,
    row_id: int,
    status: str,
    attempts: int,
    error: str = "",
    refused: dict[str, str] | None = None,
    permanent: bool = False,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "last_error": error or None,
        "claimed_by": None,
        "permanent": permanent,
    }
    if refused is not None:
        values["refused"] = refused
    if status == "sent":
        values["sent_at"] = utcnow()
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with store.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.id == row_id).values(**values))


def outbox_rows(store: Store, run_id: int | None = None) -> list[dict[str, Any]]:
    ensure_outbox(store)
    q = select(outbox).order_by(outbox.c.id)
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def next_due(store: Store, run_id: int | None = None) -> datetime | None:
    ensure_outbox(store)
    q = select(outbox.c.next_attempt_at).where(outbox.c.status.in_(("pending", "sending")))
    if run_id is not None:
        q = q.where(outbox.c.run_id == run_id)
    with store.engine.connect() as conn:
        times = [t for (t,) in conn.execute(q) if t is not None]
    return min(times) if times else None


def deliver_run(
    store: Store,
    config: Config,
    run_id: int,
    wait: bool = True,
    report: Callable[[str], None] = lambda line: None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Send the run's queued messages; with ``wait``, retry with backoff until every row
    is sent or failed. Returns the final outcome per row."""
    final: dict[int, Delivery] = {}
    while True:
        for d in send_due(store, config, run_id=run_id):
            final[d.row_id] = d
            report(d.describe())
        due = next_due(store, run_id)
        if due is None or not wait:
            break
        delay = max(0.0, (due - utcnow()).total_seconds())
        report(f"retrying in {delay:.1f} s")
        sleep(delay + 0.01)
    return [final[k] for k in sorted(final)]


def queue_run(store: Store, config: Config, run_id: int, today: date | None = None) -> MailPlan:
    """Plan and enqueue a run's mail (the service calls this after each successful run)."""
    plan = plan_run_mail(store, config, run_id, today)
    for problem in plan.problems:
        log.warning("mail run %s: %s", run_id, problem)
    enqueue(store, plan)
    return plan


# ---- CLI ------------------------------------------------------------------------------


def _pick_run(store: Store, config: Config, run: int | None) -> int:
    if run is not None:
        info = store.get_run(run)
        if info is None:
            raise ConfigError(f"no run {run} in {store.path}")
        if info.status != "succeeded":
            raise ConfigError(f"run {run} is {info.status}; only succeeded runs are mailed")
        return run
    good = None
    if config.site.urls:
        good = store.last_good_run(config.homepage)
    if good is None:
        good = next((r for r in store.list_runs(limit=200) if r.status == "succeeded"), None)
    if good is None:
        raise ConfigError(f"no succeeded run in {store.path}; run 'govaudit audit' first")
    return good.id


def cli_mail(args: argparse.Namespace) -> int:
    """``govaudit mail [RUN] [--dry-run]``: 0 all delivered, 1 something not delivered."""
    from govaudit.cli import build_config

    config = build_config(args)
    store = Store.in_dir(config.data_dir)
    run_id = _pick_run(store, config, getattr(args, "run", None))
    dry = (
        bool(getattr(args, "dry_run", False)) or config.mail.dry_run or not smtp_configured(config)
    )
    try:
        plan = plan_run_mail(store, config, run_id)
    except MailError as exc:
        raise ConfigError(str(exc)) from None
    for problem in plan.problems:
        print(f"problem: {problem}")
    if dry:
        why = "" if getattr(args, "dry_run", False) else " (no SMTP configured: mail.host)"
        paths = write_eml(plan, store.data_dir / "runs" / str(run_id))
        print(f"run {run_id}: dry run{why}, {len(paths)} message(s) written, nothing sent:")
        for p, path in zip(plan.messages, paths, strict=True):
            print(f"  {p.label} → {', '.join(p.recipients)}: {path.resolve()}")
        return 1 if plan.problems else 0
    new = enqueue(store, plan)
    requeued = requeue_failed(store, run_id)
    print(
        f"run {run_id}: {len(plan.messages)} message(s); {len(new)} newly queued"
        + (f", {requeued} failed one(s) queued again" if requeued else "")
    )
    try:
        deliver_run(store, config, run_id, wait=True, report=lambda line: print(f"  {line}"))
    except MailError as exc:
        raise ConfigError(str(exc)) from None
    rows = outbox_rows(store, run_id)
    sent = [r for r in rows if r["status"] == "sent"]
    print(f"run {run_id}: {len(sent)} of {len(rows)} message(s) sent")
    for r in rows:
        label = SUMMARY_LABEL if r["unit"] == SUMMARY else r["unit"]
        if r["status"] != "sent":
            print(f"  not sent: {label}: {r['status']}: {r['last_error'] or ''}")
        for addr, why in (r["refused"] or {}).items():
            print(f"  refused: {label}: {addr}: {why}")
    ok = len(sent) == len(rows) and not any(r["refused"] for r in rows) and not plan.problems
    return 0 if ok else 1
