"""Structured logging: JSON lines in production, request ids everywhere, nothing identifiable.

``RedactFilter`` is a safety net, not the plan: code must not log person data
in the first place. It masks anything shaped like an NHS number (10 digits,
grouped or not) or a UK postcode, in case such a value slips into a message.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from joinedup.core import context

_NHS_NUMBER = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", re.IGNORECASE)


def redact(text: str) -> str:
    return _POSTCODE.sub("[postcode]", _NHS_NUMBER.sub("[nhs-number]", text))


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get()
        record.channel = context.channel.get()
        return True


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "channel": getattr(record, "channel", "-"),
        }
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
