"""Writes of reference data through FHIR: Organization (administrators; the register's
organisations read-only), versions of rows that keep no change time, and Bundles that
make a Practitioner with its role and a Patient with their opt-out together."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.models import AuditEvent, Organisation, OrganisationKind, Team, User
from joinedup.core.roles import Role
from joinedup.fhir import providers
from joinedup.fhir.models import ResourceVersion
from joinedup.fhir.organisations import organisation_provider
from joinedup.fhir.practitioners import ROLE_SYSTEM, TEAM_SYSTEM
from joinedup.fhir.providers import UnstampedProvider
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


@pytest.fixture(autouse=True)
def _organisations_written() -> Iterator[None]:
    """Serve Organization through the writable provider (the lead registers it for good)."""
    before = providers.provider_for("Organization")
    providers.register(organisation_provider())
    yield
    providers.register(before)


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMINISTRATOR, first_name="Ola", last_name="Admin")


@pytest.fixture
def admin_api(admin: User, issue: Callable[..., str]) -> Api:
    return Api(Client(), issue(admin))


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.content
    return valid(response.json()).issue[0]


def _organisation(code: str = "Q7X1A", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Organization",
        "identifier": [{"system": ODS, "value": code}],
        "active": True,
        "type": [{"text": "Care home"}],
        "name": "Larkfield Care Home",
    }
    body.update(extra)
    return body


def test_organisation_create_read_update_412_vread_and_history(admin_api: Api, admin: User) -> None:
    created = admin_api.post("Organization", _organisation())

    assert created.status_code == 201, created.content
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith("/Organization/Q7X1A/_history/1")
    assert valid(created.json()).name == "Larkfield Care Home"
    row = Organisation.objects.get(ods_code="Q7X1A")
    assert (row.name, row.kind) == ("Larkfield Care Home", OrganisationKind.CARE_HOME)
    read = admin_api.get("Organization/Q7X1A")
    assert read.status_code == 200
    assert read["ETag"] == 'W/"1"'
    assert read.json() == created.json()
    assert AuditEvent.objects.filter(
        actor_id=admin.pk, action="create", resource="fhir.Organization"
    ).exists()
    assert AuditEvent.objects.filter(resource="organisation.create:Q7X1A").exists()

    changed = read.json() | {"name": "Larkfield House", "type": [{"text": "Hospice"}]}
    updated = admin_api.put("Organization/Q7X1A", changed, HTTP_IF_MATCH='W/"1"')
    stale = admin_api.put("Organization/Q7X1A", changed, HTTP_IF_MATCH='W/"1"')

    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    row.refresh_from_db()
    assert (row.name, row.kind) == ("Larkfield House", OrganisationKind.HOSPICE)
    assert stale.status_code == 412
    first = admin_api.get("Organization/Q7X1A/_history/1")
    assert first.status_code == 200
    assert valid(first.json()).name == "Larkfield Care Home"
    history = valid(admin_api.get("Organization/Q7X1A/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert admin_api.get("Organization/Q7X1A").json()["meta"]["versionId"] == "2"


def test_register_organisation_is_read_only(admin_api: Api, organisation: Organisation) -> None:
    body = admin_api.get(f"Organization/{organisation.ods_code}").json()
    body["name"] = "Renamed Practice"

    response = admin_api.put(f"Organization/{organisation.ods_code}", body)

    assert response.status_code == 409, response.content
    issue = _outcome(response)
    assert issue.code == "business-rule"
    assert "organisation register" in issue.diagnostics
    organisation.refresh_from_db()
    assert organisation.name == "Test Practice"


def test_organisation_create_refuses_what_it_cannot_keep(
    admin_api: Api, organisation: Organisation
) -> None:
    cases = {
        "Organization.telecom": _organisation(telecom=[{"system": "phone", "value": "0161"}]),
        "Organization.active": _organisation(active=False),
        "Organization.type[0].text": _organisation(type=[{"text": "Garden centre"}]),
        "Organization.identifier": _organisation(identifier=[]),
        "Organization.identifier[0].value": _organisation("not an ods code"),
    }
    for where, body in cases.items():
        response = admin_api.post("Organization", body)
        assert response.status_code == 422, (where, response.content)
        assert _outcome(response).expression[0] == where

    taken = admin_api.post("Organization", _organisation(organisation.ods_code))
    assert taken.status_code == 409
    assert not Organisation.objects.filter(ods_code="Q7X1A").exists()
    assert (
        not ResourceVersion.objects.for_system("test").filter(resource_type="Organization").exists()
    )


def test_only_an_administrator_writes_organisations_and_refusals_are_audited(
    api: Api, nurse: User
) -> None:
    response = api.post("Organization", _organisation())

    assert response.status_code == 403
    assert not Organisation.objects.filter(ods_code="Q7X1A").exists()
    assert AuditEvent.objects.filter(actor_id=nurse.pk, action="deny", outcome="denied").exists()


def test_organisation_update_cannot_change_the_ods_code(admin_api: Api) -> None:
    admin_api.post("Organization", _organisation())
    body = admin_api.get("Organization/Q7X1A").json()
    body["identifier"] = [{"system": ODS, "value": "Q7X1B"}]

    response = admin_api.put("Organization/Q7X1A", body)

    assert response.status_code == 422
    assert _outcome(response).expression[0] == "Organization.identifier"


def test_capability_statement_lists_reference_writes(client: Any) -> None:
    statement = valid(client.get("/fhir/R4/metadata").json())
    kinds = {r.type: {i.code for i in r.interaction} for r in statement.rest[0].resource}

    for resource_type in ("Organization", "Practitioner", "PractitionerRole", "Location"):
        assert {"create", "update"} <= kinds[resource_type], resource_type
    assert {"create", "update"} <= kinds["Consent"]


# -- versions of rows that keep no change time


def test_a_restart_makes_no_new_version_but_a_change_elsewhere_does(
    admin_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin_api.post("Organization", _organisation())
    later = UnstampedProvider.STARTED.replace(year=UnstampedProvider.STARTED.year + 1)
    monkeypatch.setattr(UnstampedProvider, "STARTED", later)  # as if the server restarted

    after_restart = admin_api.get("Organization/Q7X1A")
    Organisation.objects.filter(ods_code="Q7X1A").update(name="Larkfield (register)")
    after_change = admin_api.get("Organization/Q7X1A")

    assert after_restart["ETag"] == 'W/"1"'
    assert after_change["ETag"] == 'W/"2"'
    assert after_change.json()["name"] == "Larkfield (register)"
    old = admin_api.get("Organization/Q7X1A/_history/1")
    assert valid(old.json()).name == "Larkfield Care Home"
    body = after_change.json() | {"name": "Larkfield Care Home"}
    assert admin_api.put("Organization/Q7X1A", body, HTTP_IF_MATCH='W/"1"').status_code == 412
    put = admin_api.put("Organization/Q7X1A", body, HTTP_IF_MATCH='W/"2"')
    assert put.status_code == 200, put.content
    assert put["ETag"] == 'W/"3"'
    history = valid(admin_api.get("Organization/Q7X1A/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["3", "2", "1"]
    assert history.entry[1].resource.name == "Larkfield (register)"


# -- Bundles


def test_transaction_makes_a_practitioner_and_their_role_together(
    admin_api: Api, team: Team, organisation: Organisation
) -> None:
    practitioner_url = "urn:uuid:0f0e8c1a-3b7d-4c55-9a51-2c6a1e5d7f10"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "PractitionerRole",
                    "active": True,
                    "practitioner": {"reference": practitioner_url},
                    "code": [{"coding": [{"system": ROLE_SYSTEM, "code": "social_worker"}]}],
                    "organization": {"reference": f"Organization/{organisation.ods_code}"},
                    "healthcareService": [
                        {"identifier": {"system": TEAM_SYSTEM, "value": str(team.pk)}}
                    ],
                },
                "request": {"method": "POST", "url": "PractitionerRole"},
            },
            {
                "fullUrl": practitioner_url,
                "resource": {
                    "resourceType": "Practitioner",
                    "name": [{"family": "Mensah", "given": ["Kofi"]}],
                },
                "request": {"method": "POST", "url": "Practitioner"},
            },
        ],
    }

    response = admin_api.post("", bundle)

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201", "201"]
    user = User.objects.get(last_name="Mensah")
    assert (user.role, user.organisation, list(user.teams.all())) == (
        Role.SOCIAL_WORKER,
        organisation,
        [team],
    )
    assert reply.entry[0].resource.practitioner.reference == f"Practitioner/{user.pk}"


def test_transaction_with_a_bad_role_makes_no_account(admin_api: Api) -> None:
    url = "urn:uuid:6b1d2c3e-4f50-4a61-8b72-9c83d4e5f601"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": url,
                "resource": {"resourceType": "Practitioner", "name": [{"family": "Nowhere"}]},
                "request": {"method": "POST", "url": "Practitioner"},
            },
            {
                "resource": {
                    "resourceType": "PractitionerRole",
                    "practitioner": {"reference": url},
                    "code": [{"coding": [{"system": ROLE_SYSTEM, "code": "astronaut"}]}],
                },
                "request": {"method": "POST", "url": "PractitionerRole"},
            },
        ],
    }

    response = admin_api.post("", bundle)

    assert response.status_code == 422, response.content
    assert _outcome(response).expression[0] == "Bundle.entry[1]: PractitionerRole.code[0]"
    assert not User.objects.filter(last_name="Nowhere").exists()


def test_transaction_registers_a_patient_and_records_their_opt_out(api: Api) -> None:
    patient_url = "urn:uuid:9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    consent = {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": patient_url},
        "policy": [{"uri": "https://digital.nhs.uk/services/national-data-opt-out"}],
        "provision": {"type": "deny"},
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": consent, "request": {"method": "POST", "url": "Consent"}},
            {
                "fullUrl": patient_url,
                "resource": patient_body(
                    identifier=[
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765870"}
                    ]
                ),
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201", "201"]
    person = Person.objects.for_system("test").get(nhs_number="9434765870")
    assert person.opted_out_secondary_use is True
    assert reply.entry[0].resource.id == str(person.id)
    assert reply.entry[0].resource.patient.reference == f"Patient/{person.id}"


@pytest.mark.parametrize(
    ("resource_type", "body"),
    [
        ("Organization", {"identifier": "Q7X1A", "name": 7}),
        ("Organization", {"identifier": [{"system": ODS, "value": 5}], "type": "x"}),
        ("Practitioner", {"name": "Kofi", "telecom": [{"system": "email", "value": []}]}),
        ("Practitioner", {"name": [{"given": "Kofi"}], "identifier": {}}),
        ("PractitionerRole", {"practitioner": "x", "code": {"coding": 1}}),
        ("PractitionerRole", {"healthcareService": [{"identifier": []}], "code": [{}]}),
        ("Location", {"address": [], "position": {"latitude": "north"}}),
        ("Location", {"name": "x", "address": {"line": "1 Road"}, "identifier": [None]}),
        ("Consent", {"patient": "x", "status": 3, "category": {}}),
        ("Consent", {"status": "active", "patient": {"reference": "Patient/zz"}}),
    ],
)
def test_malformed_reference_writes_are_refused_not_failed(
    admin_api: Api, api: Api, resource_type: str, body: dict[str, Any]
) -> None:
    caller = api if resource_type == "Consent" else admin_api
    for method in ("post", "put"):
        url = resource_type if method == "post" else f"{resource_type}/1"
        sent = {"resourceType": resource_type, **body}
        if method == "put":
            sent["id"] = "1"
        response = getattr(caller, method)(url, sent)
        assert 400 <= response.status_code < 500, (method, response.content)


# -- fuzzing: a mangled reference write is refused, never a server error

_json = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _bodies(person_id: str, team_id: int, user_id: int) -> dict[str, dict[str, Any]]:
    return {
        "Organization": _organisation(),
        "Practitioner": {
            "resourceType": "Practitioner",
            "name": [{"family": "Mensah", "given": ["Kofi"]}],
            "telecom": [{"system": "email", "value": "k@example.nhs.uk", "use": "work"}],
        },
        "PractitionerRole": {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": f"Practitioner/{user_id}"},
            "code": [{"coding": [{"system": ROLE_SYSTEM, "code": "gp"}]}],
            "healthcareService": [{"identifier": {"system": TEAM_SYSTEM, "value": str(team_id)}}],
        },
        "Location": {
            "resourceType": "Location",
            "name": "Hall",
            "address": {"line": ["1 Road"], "city": "Stockport", "postalCode": "SK5 8LS"},
            "position": {"latitude": 53.4, "longitude": -2.1},
            "identifier": [{"value": "H1", "type": {"text": "asset"}}],
        },
        "Consent": {
            "resourceType": "Consent",
            "status": "active",
            "scope": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                        "code": "patient-privacy",
                    }
                ]
            },
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{person_id}"},
            "policy": [{"uri": "https://digital.nhs.uk/services/national-data-opt-out"}],
        },
    }


def _mangled(body: Any, draw: st.DrawFn) -> Any:
    """``body`` with one element somewhere inside it replaced by any JSON value."""
    if not isinstance(body, dict | list) or not body or draw(st.integers(0, 3)) == 0:
        return draw(_json)
    if isinstance(body, dict):
        key = draw(st.sampled_from(sorted(body)))
        if key == "resourceType":
            return body
        return {**body, key: _mangled(body[key], draw)}
    index = draw(st.integers(0, len(body) - 1))
    return [*body[:index], _mangled(body[index], draw), *body[index + 1 :]]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mangled_reference_writes_never_fail_the_server(
    data: st.DataObject,
    admin_api: Api,
    api: Api,
    cared_for: Person,
    team: Team,
    make_user: Callable[..., User],
) -> None:
    user = make_user(Role.GP, last_name="Fuzz")
    bodies = _bodies(str(cared_for.id), team.pk, user.pk)
    resource_type = data.draw(st.sampled_from(sorted(bodies)))
    body = _mangled(bodies[resource_type], data.draw)
    caller = api if resource_type == "Consent" else admin_api
    logical_id = str(cared_for.id) if resource_type == "Consent" else str(user.pk)

    if data.draw(st.booleans()):
        response = caller.post(resource_type, body)
    else:
        sent = {**body, "id": logical_id} if isinstance(body, dict) else body
        response = caller.put(f"{resource_type}/{logical_id}", sent)

    assert response.status_code < 500, response.content[:300]
