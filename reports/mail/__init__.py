"""Each unit's rectification list by email, through an outbox in the run database.

plan.py decides which unit gets which message (templates in reports/templates/mail_*.j2),
outbox.py queues them and sends each exactly once through smtp.py; job.py is the whole of
``govaudit mail``. This module only re-exports their public names: ``from reports import
mail; mail.X``. Nothing in the package knows the command line or the service.
"""

from reports.mail.common import POLICY, SUMMARY, SUMMARY_LABEL, MailError
from reports.mail.job import mail_run, pick_run, queue_run, write_run_eml
from reports.mail.outbox import (
    Delivery,
    _send_due,
    deliver_run,
    enqueue,
    ensure_outbox,
    next_due,
    outbox,
    outbox_metadata,
    outbox_rows,
    release_stale_claims,
    requeue_failed,
    send_due,
)
from reports.mail.plan import (
    CLOSED_STATES,
    MAX_ROWS,
    SEV_ZH,
    STATE_ZH,
    MailPlan,
    Planned,
    is_open,
    mail_date,
    message_id_for,
    plan_run_mail,
    safe_name,
    unit_file,
    valid_address,
    write_eml,
)
from reports.mail.smtp import connect, smtp_configured, smtp_password

__all__ = [
    "CLOSED_STATES",
    "MAX_ROWS",
    "POLICY",
    "SEV_ZH",
    "STATE_ZH",
    "SUMMARY",
    "SUMMARY_LABEL",
    "Delivery",
    "MailError",
    "MailPlan",
    "Planned",
    "_send_due",
    "connect",
    "deliver_run",
    "enqueue",
    "ensure_outbox",
    "is_open",
    "mail_date",
    "mail_run",
    "message_id_for",
    "next_due",
    "outbox",
    "outbox_metadata",
    "outbox_rows",
    "pick_run",
    "plan_run_mail",
    "queue_run",
    "release_stale_claims",
    "requeue_failed",
    "safe_name",
    "send_due",
    "smtp_configured",
    "smtp_password",
    "unit_file",
    "valid_address",
    "write_eml",
    "write_run_eml",
]
