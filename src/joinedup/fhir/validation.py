"""Checking incoming FHIR against the R4 structure definitions (``fhir.resources`` R4B).

What a client sends is validated once, on write, before any of it reaches the record;
the first problem is reported with the element path where it is.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from joinedup.errors import InvalidInput

JSON = dict[str, Any]
_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,40}$")


def validate(body: Any, *, expected: str | None = None, where: str = "") -> JSON:
    """The body, if it is a valid FHIR R4 resource (of the ``expected`` type)."""
    if not isinstance(body, dict):
        raise InvalidInput("send a FHIR resource: a JSON object", where=where or "body")
    resource_type = body.get("resourceType")
    if not isinstance(resource_type, str) or not _TYPE.match(resource_type):
        raise InvalidInput("the resource has no resourceType", where=where or "resourceType")
    if expected is not None and resource_type != expected:
        raise InvalidInput(
            f"expected a {expected} resource, not {resource_type}",
            where=f"{where}resourceType",
        )
    if _has_nul(body):
        raise InvalidInput("the resource holds a NUL character", where=where or "body")
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, ImportError):
        raise InvalidInput(
            f"{resource_type} is not a FHIR R4 resource type", where=f"{where}resourceType"
        ) from None
    try:
        model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"not valid FHIR R4: {first['msg']}", where=f"{where}{resource_type}.{path}"
        ) from None
    except Exception:  # noqa: BLE001 - the model library fails on some malformed input itself
        raise InvalidInput(
            "not valid FHIR R4: an element or contained resource has the wrong shape",
            where=f"{where}{resource_type}",
        ) from None
    return body


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
