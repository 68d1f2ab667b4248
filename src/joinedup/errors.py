"""One error hierarchy for the whole platform.

Every app's ``errors.py`` subclasses ``JoinedUpError``. One place maps an error
to what the user sees: an HTML page, a JSON problem for ``/api/``, a FHIR
OperationOutcome for ``/fhir/`` (``joinedup.web.errors``), or a one-line message
and exit code for the CLI (``joinedup.cli``). The message must say what went
wrong and where, and must never carry a stack trace or person-identifiable data.
"""

from __future__ import annotations

from typing import ClassVar


class JoinedUpError(Exception):
    """Base of every error the platform raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Sorry, there is a problem with the service"
    exit_code: ClassVar[int] = 1
    # FHIR OperationOutcome.issue.code for this kind of error.
    fhir_code: ClassVar[str] = "exception"

    def __init__(self, detail: str, *, where: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.where = where

    def one_line(self) -> str:
        """The message for a log line or a terminal: what, and where."""
        return f"{self.detail} (at {self.where})" if self.where else self.detail


class InvalidInput(JoinedUpError):
    status = 400
    code = "invalid-input"
    title = "There is a problem with what was sent"
    exit_code = 2
    fhir_code = "invalid"


class NotSignedIn(JoinedUpError):
    status = 401
    code = "not-signed-in"
    title = "You need to sign in"
    exit_code = 3
    fhir_code = "login"


class AccessDenied(JoinedUpError):
    status = 403
    code = "access-denied"
    title = "You do not have access to this"
    exit_code = 3
    fhir_code = "forbidden"


class NotFound(JoinedUpError):
    status = 404
    code = "not-found"
    title = "Page not found"
    exit_code = 4
    fhir_code = "not-found"


class MethodNotAllowed(JoinedUpError):
    status = 405
    code = "method-not-allowed"
    title = "That action is not possible here"
    exit_code = 2
    fhir_code = "not-supported"


class Conflict(JoinedUpError):
    status = 409
    code = "conflict"
    title = "That change conflicts with the current state"
    exit_code = 5
    fhir_code = "conflict"


class TooManyRequests(JoinedUpError):
    status = 429
    code = "too-many-requests"
    title = "Too many attempts"
    exit_code = 6
    fhir_code = "throttled"


class ConfigurationError(JoinedUpError):
    status = 500
    code = "configuration"
    title = "The service is not configured correctly"
    exit_code = 78  # EX_CONFIG
    fhir_code = "exception"


class IntegrityFailure(JoinedUpError):
    """Stored data failed a check it must pass (e.g. the audit chain)."""

    status = 500
    code = "integrity"
    title = "A data integrity check failed"
    exit_code = 7
    fhir_code = "exception"
