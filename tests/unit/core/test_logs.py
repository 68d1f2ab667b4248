from __future__ import annotations

import json
import logging

from joinedup.logs import JsonFormatter, RedactFilter, redact


def test_redact_masks_nhs_numbers_and_postcodes() -> None:
    text = redact("looked up 943 476 5919 and 9434765919 at SK1 3XE")
    assert "9434765919" not in text
    assert "943 476 5919" not in text
    assert "SK1 3XE" not in text
    assert text.count("[nhs-number]") == 2


def test_json_formatter_writes_one_redacted_object_per_line() -> None:
    record = logging.LogRecord("x", logging.INFO, "f", 1, "patient %s", ("9434765919",), None)
    RedactFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "patient [nhs-number]"
    assert entry["level"] == "info"
    assert "request_id" in entry
