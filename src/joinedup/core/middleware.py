"""Request-wide middleware: request ids and channel, security headers, the access log."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from joinedup.core import context

log = logging.getLogger("joinedup.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self' {form_extra}; frame-ancestors 'none'"
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def channel_for(path: str) -> str:
    if path.startswith("/fhir/"):
        return "fhir"
    if path.startswith(("/api/", "/openreferral/")):
        return "api"
    return "web"


class RequestContextMiddleware:
    """Give every request an id (taken from X-Request-ID when sane) and a channel, and log it.

    The log line carries the method, the matched route pattern (not the raw
    path, which may hold identifiers), the status and the time: never a query
    string, a name or an NHS number.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        supplied = request.headers.get("X-Request-ID", "")
        rid = supplied if _REQUEST_ID.match(supplied) else context.new_request_id()
        started = time.perf_counter()
        with context.acting(via=channel_for(request.path), request=rid):
            request.request_id = rid  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            match = getattr(request, "resolver_match", None)
            route = ("/" + match.route) if match is not None else "(unmatched)"
            log.info(
                "%s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return response


class SecurityHeadersMiddleware:
    """A nonce-based content security policy and the headers Django does not set itself.

    Pages seen by a signed-in user may show person data, so they are never cached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        nonce = secrets.token_urlsafe(16)
        request.csp_nonce = nonce  # type: ignore[attr-defined]
        response = self.get_response(request)
        from django.conf import settings

        form_extra = settings.OIDC_ISSUER if settings.OIDC_ENABLED else ""
        response.setdefault(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY.format(nonce=nonce, form_extra=form_extra).replace("  ", " "),
        )
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response
