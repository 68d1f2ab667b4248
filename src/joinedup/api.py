"""The JSON API under /api/: one NinjaAPI, a router per app, errors as JSON problems."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

from joinedup.discharge.api import router as discharge_router
from joinedup.errors import InvalidInput, JoinedUpError, NotSignedIn
from joinedup.neighbourhoods.api import router as neighbourhoods_router
from joinedup.people.api import router as people_router
from joinedup.web.errors import error_response

api = NinjaAPI(
    title="joinedup API",
    version="1",
    description="The partnership platform's JSON API. FHIR lives at /fhir/R4.",
    auth=django_auth,
    urls_namespace="api",
    docs_url=None,  # the interactive docs page loads scripts from a CDN; openapi.json is served
)


@api.exception_handler(JoinedUpError)
def _platform_error(request: HttpRequest, exc: JoinedUpError) -> HttpResponse:
    return error_response(request, exc)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    first = exc.errors[0] if exc.errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    return error_response(request, InvalidInput(first.get("msg", "invalid input"), where=where))


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, NotSignedIn("sign in, or send a valid token"))


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    error = JoinedUpError(str(exc))
    error.status = exc.status_code  # type: ignore[misc]
    return error_response(request, error)


api.add_router("/people/", people_router)
api.add_router("/discharge/", discharge_router)
api.add_router("/neighbourhoods/", neighbourhoods_router)
