"""The homepage down/back alert mails of the availability monitor, as mail plans for the
outbox: one Message-ID per outage and kind, so each alert is sent exactly once.

Knows nothing of probing or scheduling; the outbox and SMTP do the sending.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate

from core.availability import Outage, Probe
from core.config import Config
from reports.mail.plan import MailPlan, Planned, valid_address

#: Outbox rows of availability alerts carry this run id (they belong to no audit run).
ALERT_RUN_ID = 0
DOWN = "down"
BACK = "back"


def alert_recipients(config: Config) -> list[str]:
    wanted = config.availability.alert_emails or config.mail.info_centre
    return [a for a in wanted if valid_address(a)]


def alert_message_id(site: str, outage_start: datetime, kind: str, sender: str) -> str:
    """One per outage and kind: the same alert queued twice is one message."""
    domain = sender.rpartition("@")[2] or "localhost"
    key = hashlib.sha1(f"{site}\n{outage_start.isoformat()}".encode()).hexdigest()[:16]
    return f"<govaudit.availability.{key}.{kind}@{domain}>"


def alert_plan(
    config: Config, site: str, kind: str, outage: Outage, last: Probe, now: datetime
) -> MailPlan:
    """The down (``DOWN``) or back (``BACK``) message of one outage, as a plan of one."""
    name = config.site.name or site
    if kind == DOWN:
        subject = f"【网站监测】首页无法访问：{name}"
        body = (
            f"{name}（{site}）首页自 {outage.start:%Y-%m-%d %H:%M:%S} 起连续 {outage.probes} 次"
            f"探测失败（单次限时 {config.availability.timeout:g} 秒）。\n"
            f"最近一次：{last.at:%Y-%m-%d %H:%M:%S}，{last.describe()}。\n\n"
            "请尽快排查服务器、网络和域名解析。恢复访问后将另行通知；中断期间不再重复发送。\n"
            "依据：国办秘函〔2019〕19号，首页一周内不可访问比例≥5%为单项否决。\n"
        )
    else:
        subject = f"【网站监测】首页已恢复访问：{name}"
        end = outage.end or last.at
        body = (
            f"{name}（{site}）首页已于 {end:%Y-%m-%d %H:%M:%S} 恢复访问（{last.describe()}）。\n"
            f"中断自 {outage.start:%Y-%m-%d %H:%M:%S} 起，连续 {outage.probes} 次探测失败，"
            f"约 {outage.minutes:g} 分钟。\n"
        )
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = config.mail.sender
    recipients = alert_recipients(config)
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = alert_message_id(site, outage.start, kind, config.mail.sender)
    msg.set_content(body)
    plan = MailPlan(run_id=ALERT_RUN_ID)
    if recipients:
        plan.messages.append(
            Planned(unit=f"availability-{kind}", recipients=recipients, message=msg)
        )
    else:
        plan.problems.append("availability alert: no address (availability.alert_emails)")
    return plan
