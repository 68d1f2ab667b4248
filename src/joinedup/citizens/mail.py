"""Sending the register's emails without letting a mail outage undo the work around them.

Emails are sent after the transaction commits (the caller uses ``transaction.on_commit``);
if the mail server is unreachable the sign-up, invitation or reminder stands, a warning
is logged (naming no one: the address is never logged), and the staff page's counts
say how many emails were queued, not delivered.
"""

from __future__ import annotations

import logging
import smtplib

from django.core.mail import send_mail

SENDER = "Citizens' register <register@joinedup.invalid>"
log = logging.getLogger("joinedup.citizens")


def mail_send(*, subject: str, body: str, to: str, what: str) -> bool:
    """Send one email; False (and a warning saying ``what`` failed) if it could not go."""
    try:
        send_mail(subject, body, SENDER, [to])
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("citizens: %s email not sent (%s)", what, type(exc).__name__)
        return False
    return True
