from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from joinedup.core.models import User

pytestmark = pytest.mark.django_db


def test_security_headers_on_every_page(client: Client) -> None:
    response = client.get("/sign-in/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_the_inline_script_carries_the_policy_nonce(client: Client) -> None:
    response = client.get("/sign-in/")
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in response.content.decode()


def test_request_id_is_echoed_or_made(client: Client) -> None:
    assert len(client.get("/health/")["X-Request-ID"]) == 32
    given = client.get("/health/", headers={"X-Request-ID": "lb-0123456789"})
    assert given["X-Request-ID"] == "lb-0123456789"
    odd = client.get("/health/", headers={"X-Request-ID": "<script>"})
    assert odd["X-Request-ID"] != "<script>"


def test_signed_in_pages_are_never_cached(
    make_user: Callable[..., User], signed_in: Callable[[User], Client]
) -> None:
    response = signed_in(make_user()).get("/")
    assert response["Cache-Control"] == "no-store"


def test_health_and_readiness(client: Client) -> None:
    assert client.get("/health/").json() == {"status": "ok"}
    assert client.get("/health/ready/").json() == {"status": "ok", "database": "up"}


def test_unknown_paths_answer_in_their_channels_format(client: Client) -> None:
    assert client.get("/no-such-page/").status_code == 404
    api = client.get("/api/no-such-thing")
    assert api.status_code == 404
    assert api["Content-Type"] == "application/problem+json"
    fhir = client.get("/fhir/R4/Nothing/1")
    assert fhir.json()["resourceType"] == "OperationOutcome"


def test_anonymous_api_call_gets_a_problem_not_a_redirect(client: Client) -> None:
    response = client.get("/api/people/7c0a8f0e-6f7b-4d55-9b1c-7c6f4a0c1d2e")
    assert response.status_code == 401
    assert response.json()["title"] == "You need to sign in"
