"""What every part of the mail package shares: the summary's outbox key, the email policy
and :class:`MailError`. Knows nothing of planning, the outbox or SMTP.
"""

from __future__ import annotations

import logging
from email import policy as email_policy

#: One logger for the whole package (its records keep the name they always had).
log = logging.getLogger("reports.mail")

#: Outbox key of the information centre's summary message (not a unit name).
SUMMARY = "*summary*"
SUMMARY_LABEL = "信息中心汇总"

#: Headers in RFC 2047 form, bodies base64/quoted-printable: the .eml files are plain ASCII.
POLICY = email_policy.SMTP.clone(cte_type="7bit")


class MailError(Exception):
    """A mail problem that stops sending altogether (e.g. the password variable is unset)."""


def label(unit: str) -> str:
    """How a message's unit is shown: its name, or the summary's label."""
    return SUMMARY_LABEL if unit == SUMMARY else unit
