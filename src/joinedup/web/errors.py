"""The one place an error becomes a response.

By path: ``/fhir/`` gets a FHIR OperationOutcome, ``/api/`` (and ``/openreferral/``)
a JSON problem (RFC 9457), everything else an NHS-styled HTML page. Unexpected
exceptions are logged with the request id and shown as a plain 500 that quotes
the request id: no stack trace ever reaches a user.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string

from joinedup.core.errors import NoRelationship
from joinedup.core.models import BreakGlassReason
from joinedup.errors import (
    AccessDenied,
    InvalidInput,
    JoinedUpError,
    MethodNotAllowed,
    NotFound,
    NotSignedIn,
)

log = logging.getLogger("joinedup.errors")


def as_platform_error(exc: BaseException) -> JoinedUpError:
    """Django's own exceptions, and anything unexpected, as the platform's errors."""
    if isinstance(exc, JoinedUpError):
        return exc
    if isinstance(exc, Http404):
        return NotFound("the page or resource you asked for does not exist")
    if isinstance(exc, PermissionDenied):
        return AccessDenied("you do not have permission to do this")
    if isinstance(exc, RequestDataTooBig):
        return InvalidInput("what was sent is too large")
    if isinstance(exc, SuspiciousOperation | BadRequest):
        return InvalidInput("the request could not be understood")
    return JoinedUpError("an unexpected error happened; it has been logged")


def error_response(request: HttpRequest, error: JoinedUpError) -> HttpResponse:
    path = request.path
    if path.startswith("/fhir/"):
        response = _fhir_outcome(request, error)
    elif path.startswith(("/api/", "/openreferral/")):
        response = _problem(request, error)
    else:
        response = _html(request, error)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, int):
        response["Retry-After"] = str(retry_after)
    return response


def _problem(request: HttpRequest, error: JoinedUpError) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"https://joinedup.invalid/problems/{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": getattr(request, "request_id", None),
    }
    if error.where:
        body["where"] = error.where
    return HttpResponse(
        json.dumps(body), status=error.status, content_type="application/problem+json"
    )


def _fhir_outcome(request: HttpRequest, error: JoinedUpError) -> HttpResponse:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": error.fhir_code,
        "diagnostics": error.detail,
    }
    if error.where:
        issue["expression"] = [error.where]
    body = {
        "resourceType": "OperationOutcome",
        "id": getattr(request, "request_id", None),
        "issue": [issue],
    }
    return HttpResponse(json.dumps(body), status=error.status, content_type="application/fhir+json")


def _html(request: HttpRequest, error: JoinedUpError) -> HttpResponse:
    if isinstance(error, NotSignedIn):
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    context = {
        "error": error,
        "request_id": getattr(request, "request_id", ""),
        "break_glass": isinstance(error, NoRelationship) and error.can_break_glass,
        "break_glass_minutes": settings.BREAK_GLASS_MINUTES,
        "break_glass_reasons": [
            {"value": value, "text": label} for value, label in BreakGlassReason.choices
        ],
    }
    body = render_to_string("web/error.jinja", context, request=request)
    return HttpResponse(body, status=error.status)


class ErrorMiddleware:
    """Turn any exception a view raises into the right response for its channel."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse:
        error = as_platform_error(exc)
        if error is not exc:
            if error.status >= 500:
                log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        elif error.status >= 500:
            log.error("%s: %s", type(exc).__name__, error.one_line())
        return error_response(request, error)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, InvalidInput("the request could not be understood"))


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, AccessDenied("you do not have permission to do this"))


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, NotFound("the page or resource you asked for does not exist"))


def handler500(request: HttpRequest) -> HttpResponse:
    return error_response(
        request, JoinedUpError("an unexpected error happened; it has been logged")
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    error = AccessDenied(
        "the form had expired or did not come from this service: go back, reload it and try again"
    )
    log.warning("csrf failure: %s", reason)
    return error_response(request, error)


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    response = error_response(
        request, MethodNotAllowed(f"use {' or '.join(allowed)} here", where=request.method)
    )
    response["Allow"] = ", ".join(allowed)
    return response
