from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from joinedup.errors import AccessDenied, Conflict, InvalidInput, JoinedUpError, NotFound
from joinedup.web.errors import as_platform_error, error_response


@pytest.fixture
def rf() -> RequestFactory:
    return RequestFactory()


@pytest.mark.parametrize(
    ("error", "status", "fhir_code"),
    [
        (InvalidInput("bad date", where="dob"), 400, "invalid"),
        (AccessDenied("no"), 403, "forbidden"),
        (NotFound("gone"), 404, "not-found"),
        (Conflict("stale"), 409, "conflict"),
        (JoinedUpError("boom"), 500, "exception"),
    ],
)
def test_error_maps_to_fhir_operation_outcome(
    rf: RequestFactory, error: JoinedUpError, status: int, fhir_code: str
) -> None:
    response = error_response(rf.get("/fhir/R4/Patient/1"), error)
    body = json.loads(response.content)
    assert response.status_code == status
    assert response["Content-Type"] == "application/fhir+json"
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == fhir_code
    assert body["issue"][0]["diagnostics"] == error.detail


def test_error_maps_to_json_problem_with_where(rf: RequestFactory) -> None:
    response = error_response(rf.get("/api/people/x"), InvalidInput("bad date", where="dob"))
    body = json.loads(response.content)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert body["status"] == 400
    assert body["detail"] == "bad date"
    assert body["where"] == "dob"


@pytest.mark.django_db
def test_error_maps_to_html_page_without_trace(rf: RequestFactory) -> None:
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/somewhere/")
    request.user = AnonymousUser()
    request.csp_nonce = "n"
    response = error_response(request, as_platform_error(ZeroDivisionError("secret detail")))
    assert response.status_code == 500
    text = response.content.decode()
    assert "Sorry, there is a problem with the service" in text
    assert "ZeroDivisionError" not in text
    assert "secret detail" not in text
    assert "Traceback" not in text


def test_cli_exit_codes_are_distinct_per_kind() -> None:
    codes = {cls.exit_code for cls in (InvalidInput, AccessDenied, NotFound, Conflict)}
    assert len(codes) == 4
    assert 0 not in codes
