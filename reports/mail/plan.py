"""Which unit gets which message: one per unit with open findings (HTML body, plain-text
alternative, the unit's own ``units/<unit>.xlsx``) and one summary for the information
centre, built from the run's findings in the store. Knows nothing of the outbox or SMTP.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader

from core.config import Config, ConfigError
from reports.files import atomic_write
from reports.mail.common import POLICY, SUMMARY, SUMMARY_LABEL, MailError, log
from reports.store import Store
from reports.text import neutralize_bidi

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
            _render("mail_unit.txt.j2", context),
            _render("mail_unit.html.j2", context),
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
                _render("mail_summary.txt.j2", context),
                _render("mail_summary.html.j2", context),
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


@cache
def _environment() -> Environment:
    """The message templates beside the HTML report's: ``*.txt.j2`` is plain text, every
    other template (HTML) is autoescaped."""
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=lambda name: not (name or "").endswith(".txt.j2"),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=neutralize_bidi,  # page text never reverses a message's lines
    )


def _render(template: str, context: dict[str, Any]) -> str:
    return _environment().get_template(template).render(**context)


# ---- dry run --------------------------------------------------------------------------


def write_eml(plan: MailPlan, run_dir: Path) -> list[Path]:
    """Write each planned message to ``<run_dir>/mail/<unit>.eml``; return the paths."""
    out: list[Path] = []
    for p in plan.messages:
        path = run_dir / "mail" / f"{safe_name(p.label)}.eml"
        atomic_write(path, p.message.as_bytes(policy=POLICY))
        out.append(path)
    return out
