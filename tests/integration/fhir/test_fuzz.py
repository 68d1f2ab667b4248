"""Fuzzing the FHIR surface with Hypothesis: whatever is sent, never a 5xx.

Requests are built from the CapabilityStatement (every type, every search parameter,
with modifiers and prefixes) mixed with unknown names, hostile values, random ids and
mangled resources and Bundles; each response must be below 500 and valid FHIR JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.fhir.conftest import FHIR, patient_body

from joinedup.core.models import Team, User
from joinedup.core.roles import Role
from joinedup.fhir import services
from joinedup.fhir.providers import registered
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

TYPES = [*sorted(registered()), "Foo", "CarePlan", "Bundle"]
MODIFIERS = ["", ":exact", ":contains", ":not", ":missing", ":text", ":Patient", ":below"]
PREFIXES = ["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap", "zz"]
RESULT = ["_count", "_sort", "_include", "_revinclude", "_summary", "_total", "_cursor"]

text = st.text(max_size=30)
hostile = st.sampled_from(
    [
        "",
        "\x00",
        "'; drop table x;--",
        "%",
        "_",
        "\\,",
        "|",
        "a|b|c",
        "Patient/",
        "-1",
        "99999999999999999999999",
        "9999-12-31T23:59:59+23:59",
        "0000",
        "2024-02-30",
        "ge1900-01-01",
        "http://loinc.org|8480-6",
        "*",
        "Patient:*",
        "🙂",
        "x" * 300,
    ]
)
values = st.one_of(
    text, hostile, st.builds(lambda p, d: p + d, st.sampled_from(PREFIXES), st.dates().map(str))
)


@st.composite
def search_query(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]]]:
    resource_type = draw(st.sampled_from(TYPES))
    provider = registered().get(resource_type)
    names = sorted(provider.search_params) if provider else []
    pairs = []
    for _ in range(draw(st.integers(0, 4))):
        name = draw(st.one_of(st.sampled_from(names or ["x"]), st.sampled_from(RESULT), text))
        pairs.append((name + draw(st.sampled_from(MODIFIERS)), draw(values)))
    return resource_type, pairs


def _mangle(body: Any, draw: st.DrawFn) -> Any:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return body
    if choice == 1:
        return {k: v for k, v in body.items() if draw(st.booleans())}
    if choice == 2:
        return {**body, draw(text): draw(values)}
    if choice == 3:
        return {**body, draw(st.sampled_from(sorted(body))): draw(values)}
    if choice == 4:
        return draw(st.one_of(st.none(), st.integers(), text, st.lists(st.integers())))
    return {**body, "resourceType": draw(st.sampled_from(TYPES))}


@st.composite
def write(draw: st.DrawFn) -> tuple[str, str, Any, dict[str, str]]:
    body = _mangle(patient_body(), draw)
    kind = draw(st.sampled_from(["create", "update", "bundle", "match"]))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        headers["HTTP_IF_MATCH"] = draw(st.sampled_from(['W/"1"', '"2"', "x", 'W/"999"', ""]))
    if draw(st.booleans()):
        headers["HTTP_IF_NONE_EXIST"] = draw(
            st.sampled_from(["identifier=|1", "x=y", "", "name=a"])
        )
    if kind == "create":
        return "POST", "Patient", body, headers
    if kind == "update":
        return "PUT", f"Patient/{draw(st.uuids())}", body, headers
    if kind == "match":
        return (
            "POST",
            "Patient/$match",
            {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": body}]},
            headers,
        )
    entry = {
        "fullUrl": "urn:uuid:1d7c7f2e-55b4-4c39-9a5c-3e5a8f3b9a01",
        "resource": body,
        "request": {
            "method": draw(st.sampled_from(["POST", "PUT", "GET", "DELETE", "PATCH"])),
            "url": draw(
                st.sampled_from(
                    ["Patient", "Observation", "Foo/1", "Patient/x", "Patient?name=a", ""]
                )
            ),
        },
    }
    bundle = {
        "resourceType": "Bundle",
        "type": draw(st.sampled_from(["batch", "transaction", "collection"])),
        "entry": [entry] * draw(st.integers(0, 3)),
    }
    return "POST", "", _mangle(bundle, draw), headers


class Counter:
    sent = 0


def _check(response: Any) -> None:
    Counter.sent += 1
    assert response.status_code < 500, response.content[:300]
    if response.content and response["Content-Type"].startswith("application/fhir+json"):
        body = json.loads(response.content)
        assert (
            body["resourceType"] in {"Bundle", "OperationOutcome", "Patient", "CapabilityStatement"}
            or body["resourceType"] in TYPES
        )


@pytest.fixture
def fuzz_client(
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    make_person: Callable[..., Person],
    relate: Callable[..., object],
) -> tuple[Client, dict[str, str]]:
    team = make_team()
    nurse = make_user(Role.DISTRICT_NURSE, teams=[team])
    for _ in range(3):
        relate(make_person(), team)
    token = services.token_issue(user=nurse, scopes="user/*.read user/*.write").token
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_ACCEPT": FHIR}


@settings(max_examples=700, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=search_query(), lenient=st.booleans(), post=st.booleans())
def test_fuzz_search_never_5xx(
    fuzz_client: tuple[Client, dict[str, str]],
    query: tuple[str, list[tuple[str, str]]],
    lenient: bool,
    post: bool,
) -> None:
    client, headers = fuzz_client
    resource_type, pairs = query
    extra = {"HTTP_PREFER": "handling=lenient"} if lenient else {}
    if post:
        response = client.post(
            f"/fhir/R4/{resource_type}/_search",
            urlencode(pairs),
            content_type="application/x-www-form-urlencoded",
            **headers,
            **extra,
        )
    else:
        response = client.get(f"/fhir/R4/{resource_type}?{urlencode(pairs)}", **headers, **extra)
    _check(response)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    resource_type=st.sampled_from(TYPES),
    rid=st.one_of(st.uuids().map(str), text, hostile),
    suffix=st.sampled_from(["", "/_history", "/_history/1", "/_history/x", "/$everything"]),
)
def test_fuzz_read_never_5xx(
    fuzz_client: tuple[Client, dict[str, str]], resource_type: str, rid: str, suffix: str
) -> None:
    client, headers = fuzz_client
    from urllib.parse import quote

    _check(client.get(f"/fhir/R4/{resource_type}/{quote(rid, safe='')}{suffix}", **headers))


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=write())
def test_fuzz_writes_never_5xx(
    fuzz_client: tuple[Client, dict[str, str]], request: tuple[str, str, Any, dict[str, str]]
) -> None:
    client, headers = fuzz_client
    method, url, body, extra = request
    call = client.post if method == "POST" else client.put
    _check(call(f"/fhir/R4/{url}", json.dumps(body), content_type=FHIR, **headers, **extra))


def test_fuzz_sent_at_least_a_thousand_requests() -> None:
    """Runs after the three fuzz tests in this module (pytest keeps file order)."""
    if Counter.sent == 0:
        pytest.skip("run with the fuzz tests above")
    assert Counter.sent >= 1000
