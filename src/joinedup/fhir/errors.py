"""Errors of the FHIR API, each with its HTTP status and OperationOutcome issue code."""

from __future__ import annotations

from joinedup.errors import Conflict, InvalidInput, JoinedUpError, NotFound


class PreconditionFailed(Conflict):
    """An ``If-Match`` named a version that is no longer the current one."""

    status = 412
    code = "precondition-failed"
    title = "The resource has changed since you read it"
    fhir_code = "conflict"


class Gone(NotFound):
    status = 410
    code = "gone"
    title = "The resource was deleted"
    fhir_code = "deleted"


class NotSupported(JoinedUpError):
    """A resource type or interaction this server does not offer (see /metadata)."""

    status = 400
    code = "not-supported"
    title = "That is not supported by this server"
    fhir_code = "not-supported"


class Unprocessable(InvalidInput):
    """Well-formed FHIR that breaks a rule of the record (e.g. an invalid NHS number)."""

    status = 422
    code = "unprocessable"
    title = "The resource breaks a rule of the record"
    fhir_code = "processing"


class NotAcceptable(JoinedUpError):
    status = 406
    code = "not-acceptable"
    title = "This server answers in FHIR JSON only"
    fhir_code = "not-supported"


class UnsupportedMediaType(JoinedUpError):
    status = 415
    code = "unsupported-media-type"
    title = "Send FHIR JSON"
    fhir_code = "not-supported"


class InvalidToken(JoinedUpError):
    """No bearer token, or one that is unknown, expired or revoked."""

    status = 401
    code = "invalid-token"
    title = "Send a valid bearer token"
    fhir_code = "login"


class InsufficientScope(JoinedUpError):
    status = 403
    code = "insufficient-scope"
    title = "The token's scopes do not allow this"
    fhir_code = "forbidden"
