"""Writes of Procedure, DiagnosticReport, EpisodeOfCare, MedicationRequest and Flag (record
facts, like the six clinical types before them), and derived Provenance staying read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.models import AuditEvent, Team, User
from joinedup.core.roles import Role
from joinedup.fhir.models import ResourceVersion
from joinedup.people.models import Person
from joinedup.record.models import Fact

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
TYPES = ("Procedure", "DiagnosticReport", "EpisodeOfCare", "MedicationRequest", "Flag")


def _ods(user: User) -> str:
    assert user.organisation is not None
    return user.organisation.ods_code


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome"
    return valid(response.json()).issue[0]


def _observation(subject: str, code: str, display: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2025-03-01T09:00:00+00:00",
        "valueQuantity": {"value": value, "unit": "g/L"},
    }


def _body(
    resource_type: str, subject: str, ods: str, results: tuple[str, ...] | list[str] = ()
) -> dict[str, Any]:
    """One body of each type, holding only what the record keeps."""
    reference = {"reference": subject}
    body: dict[str, Any] = {
        "Procedure": {
            "resourceType": "Procedure",
            "status": "completed",
            "category": {"text": "Social care assessment"},
            "code": {"text": "Care Act assessment"},
            "subject": reference,
            "performedDateTime": "2025-05-06T10:00:00+00:00",
            "outcome": {"text": "Eligible needs"},
        },
        "DiagnosticReport": {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "category": [{"coding": [{"system": V2_0074, "code": "LAB"}]}],
            "code": {
                "coding": [{"system": SNOMED, "code": "26604007", "display": "Full blood count"}]
            },
            "subject": reference,
            "effectiveDateTime": "2025-03-01T09:00:00+00:00",
            "issued": "2025-03-01T15:30:00+00:00",
            "performer": [{"reference": f"Organization/{ods}"}],
        },
        "EpisodeOfCare": {
            "resourceType": "EpisodeOfCare",
            "status": "active",
            "type": [{"text": "Community referral"}, {"text": "District nursing"}],
            "patient": reference,
            "managingOrganization": {"reference": f"Organization/{ods}"},
            "period": {"start": "2025-02-01T00:00:00+00:00"},
        },
        "MedicationRequest": {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "plan",
            "medicationCodeableConcept": {
                "coding": [{"system": SNOMED, "code": "318420003", "display": "Amlodipine 5mg"}]
            },
            "subject": reference,
            "authoredOn": "2025-01-10T00:00:00+00:00",
            "requester": {"reference": f"Organization/{ods}"},
            "dispenseRequest": {
                "validityPeriod": {
                    "start": "2025-01-10T00:00:00+00:00",
                    "end": "2025-07-10T00:00:00+00:00",
                }
            },
        },
        "Flag": {
            "resourceType": "Flag",
            "status": "active",
            "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "safety"}]}],
            "code": {"text": "Child protection plan"},
            "subject": reference,
            "period": {"start": "2025-06-01T00:00:00+00:00"},
        },
    }[resource_type]
    if results:
        body["result"] = [{"reference": r} for r in results]
    return body


# What an update of each type changes (a function of the body as read back).
def _change(resource_type: str, body: dict[str, Any]) -> dict[str, Any]:
    changed = dict(body)
    if resource_type == "Procedure":
        changed["outcome"] = {"text": "No eligible needs"}
    elif resource_type == "DiagnosticReport":
        changed["status"] = "amended"
    elif resource_type == "EpisodeOfCare":
        changed["status"] = "finished"
        changed["period"] = {**body["period"], "end": "2025-04-01T00:00:00+00:00"}
    elif resource_type == "MedicationRequest":
        changed["status"] = "stopped"
    else:
        changed["status"] = "inactive"
        changed["period"] = {**body["period"], "end": "2025-09-01T00:00:00+00:00"}
    return changed


@pytest.fixture
def social_worker(make_user: Callable[..., User], team: Team) -> User:
    return make_user(Role.SOCIAL_WORKER, teams=[team])


@pytest.fixture
def writers(api: Api, social_worker: User, issue: Callable[..., str]) -> dict[str, Api]:
    """The client that writes each type: a social worker's for Flag, the nurse's else."""
    flags = Api(Client(), issue(social_worker))
    return {t: flags if t == "Flag" else api for t in TYPES}


def _prepared(api: Api, resource_type: str, person: Person, ods: str) -> dict[str, Any]:
    """The body to write, after writing what it refers to (a report's Observations)."""
    subject = f"Patient/{person.id}"
    results = []
    if resource_type == "DiagnosticReport":
        for code, display, value in (("441689006", "Haemoglobin", 131.0), ("767002", "WBC", 6.1)):
            made = api.post("Observation", _observation(subject, code, display, value))
            assert made.status_code == 201, made.content
            results.append(f"Observation/{made.json()['id']}")
    return _body(resource_type, subject, ods, results)


def _assert_holds(back: Any, sent: Any, where: str) -> None:
    """Everything sent is in what was read back (dates compared as instants)."""
    from datetime import datetime

    if isinstance(sent, dict):
        for key, value in sent.items():
            assert key in back, f"{where}.{key} was lost"
            _assert_holds(back[key], value, f"{where}.{key}")
    elif isinstance(sent, list):
        assert len(back) == len(sent), where
        for index, item in enumerate(sent):
            _assert_holds(back[index], item, f"{where}[{index}]")
    elif isinstance(sent, str) and len(sent) >= 10 and sent[:4].isdigit() and sent[4] == "-":
        assert datetime.fromisoformat(sent) == datetime.fromisoformat(back), where
    else:
        assert back == sent, where


# -- the whole round, for each type


@pytest.mark.parametrize("resource_type", TYPES)
def test_create_read_update_412_vread_and_history(
    writers: dict[str, Api], cared_for: Person, nurse: User, resource_type: str
) -> None:
    api = writers[resource_type]
    body = _prepared(api, resource_type, cared_for, _ods(nurse))

    created = api.post(resource_type, body)

    assert created.status_code == 201, created.content
    fid = created.json()["id"]
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith(f"/{resource_type}/{fid}/_history/1")
    read = api.get(f"{resource_type}/{fid}")
    assert read.status_code == 200
    assert read.json() == created.json()
    valid(read.json())
    _assert_holds(read.json(), body, resource_type)
    fact = Fact.objects.for_system("test").get(id=fid)
    assert fact.source == "fhir-api"
    assert AuditEvent.objects.filter(
        action="create", resource=f"fhir.{resource_type}", person_id=cared_for.id
    ).exists()

    changed = _change(resource_type, read.json())
    updated = api.put(f"{resource_type}/{fid}", changed, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    _assert_holds(valid(updated.json()).model_dump(mode="json"), _without_meta(changed), "")
    stale = api.put(f"{resource_type}/{fid}", changed, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412

    first = api.get(f"{resource_type}/{fid}/_history/1")
    assert first.status_code == 200
    assert first.json() == created.json()
    history = valid(api.get(f"{resource_type}/{fid}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert api.get(f"{resource_type}/{fid}").json()["meta"]["versionId"] == "2"


def _without_meta(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "meta"}


@pytest.mark.parametrize("resource_type", TYPES)
def test_write_about_a_stranger_is_refused_and_audited(
    writers: dict[str, Api],
    make_person: Callable[..., Person],
    nurse: User,
    resource_type: str,
) -> None:
    stranger = make_person()
    body = _body(resource_type, f"Patient/{stranger.id}", _ods(nurse))

    refused = writers[resource_type].post(resource_type, body)

    assert refused.status_code == 403, refused.content
    assert _outcome(refused).code == "forbidden"
    assert AuditEvent.objects.filter(
        action="deny", outcome="denied", resource=f"fhir.{resource_type}"
    ).exists()
    assert not Fact.objects.for_system("test").filter(identity__person=stranger).exists()


@pytest.mark.parametrize(
    ("resource_type", "change", "where"),
    [
        ("Procedure", {"performer": [{"actor": {"display": "Sam"}}]}, "Procedure.performer"),
        ("Procedure", {"status": "in-progress"}, "Procedure.status"),
        ("Procedure", {"category": {"text": "Surgical procedure"}}, "Procedure.category"),
        ("DiagnosticReport", {"conclusion": "Normal"}, "DiagnosticReport.conclusion"),
        (
            "DiagnosticReport",
            {"result": [{"reference": "Patient/1"}]},
            "DiagnosticReport.result[0]",
        ),
        ("EpisodeOfCare", {"type": [{"text": "Respite"}]}, "EpisodeOfCare.type[0]"),
        ("EpisodeOfCare", {"status": "planned"}, "EpisodeOfCare.status"),
        (
            "EpisodeOfCare",
            {"diagnosis": [{"condition": {"display": "x"}}]},
            "EpisodeOfCare.diagnosis",
        ),
        ("MedicationRequest", {"intent": "order"}, "MedicationRequest.intent"),
        (
            "MedicationRequest",
            {"dosageInstruction": [{"text": "One a day"}]},
            "MedicationRequest.dosageInstruction",
        ),
        (
            "MedicationRequest",
            {"requester": {"reference": "Practitioner/1"}},
            "MedicationRequest.requester",
        ),
        ("Flag", {"code": {"text": "Safeguarding enquiry"}}, "Flag.code.text"),
        ("Flag", {"code": {"text": "Neighbour dispute"}}, "Flag.code.text"),
        ("Flag", {"status": "inactive"}, "Flag.status"),
        ("Flag", {"category": [{"text": "Clinical"}]}, "Flag.category[0].text"),
    ],
)
def test_what_the_record_cannot_hold_is_refused_naming_the_element(
    writers: dict[str, Api],
    cared_for: Person,
    nurse: User,
    resource_type: str,
    change: dict[str, Any],
    where: str,
) -> None:
    body = {**_body(resource_type, f"Patient/{cared_for.id}", _ods(nurse)), **change}
    before = Fact.objects.for_system("test").count()

    refused = writers[resource_type].post(resource_type, body)

    assert refused.status_code == 422, refused.content
    assert _outcome(refused).expression[0] == where
    assert Fact.objects.for_system("test").count() == before


@pytest.mark.parametrize(
    ("resource_type", "kind", "extra"),
    [
        ("Procedure", "assessment", {"display": "Care Act assessment", "status": ""}),
        ("DiagnosticReport", "diagnostic_report", {"display": "Full blood count"}),
        ("EpisodeOfCare", "hospice_episode", {"display": "Day hospice", "status": ""}),
        ("MedicationRequest", "medication", {"display": "Amlodipine", "status": "active"}),
        ("Flag", "child_referral", {"display": "Child in need", "status": ""}),
    ],
)
def test_a_feeds_record_is_read_only(
    writers: dict[str, Api],
    cared_for: Person,
    make_fact: Callable[..., Fact],
    resource_type: str,
    kind: str,
    extra: dict[str, Any],
) -> None:
    fact = make_fact(cared_for, kind=kind, value=None, unit="", **extra)
    api = writers[resource_type]
    body = api.get(f"{resource_type}/{fact.pk}").json()

    refused = api.put(f"{resource_type}/{fact.pk}", body)

    assert refused.status_code == 409, refused.content
    assert _outcome(refused).code == "business-rule"
    assert not ResourceVersion.objects.for_system("test").filter(logical_id=str(fact.pk)).exists()


# -- what is particular to each type


def test_flag_is_written_by_social_workers_only(
    api: Api, writers: dict[str, Api], cared_for: Person, nurse: User
) -> None:
    body = _body("Flag", f"Patient/{cared_for.id}", _ods(nurse))

    refused = api.post("Flag", body)
    allowed = writers["Flag"].post("Flag", body)

    assert refused.status_code == 403
    assert "social worker" in _outcome(refused).diagnostics
    assert AuditEvent.objects.filter(
        actor_username=nurse.username, action="deny", resource="fhir.Flag"
    ).exists()
    assert allowed.status_code == 201
    assert api.get(f"Flag/{allowed.json()['id']}").status_code == 200  # the nurse may read it
    changed = _change("Flag", allowed.json())
    assert api.put(f"Flag/{allowed.json()['id']}", changed).status_code == 403


def test_safeguarding_enquiry_is_a_procedure_and_a_flag_with_one_history(
    api: Api, writers: dict[str, Api], cared_for: Person, nurse: User
) -> None:
    body = _body("Procedure", f"Patient/{cared_for.id}", _ods(nurse))
    body["code"] = {"text": "Safeguarding enquiry"}
    created = api.post("Procedure", body).json()
    pid = created["id"]

    flag = api.get(f"Flag/{pid}")
    assert flag.status_code == 200
    assert valid(flag.json()).code.text == "Safeguarding enquiry"
    assert api.put(f"Procedure/{pid}", _change("Procedure", created)).status_code == 200

    assert api.get(f"Flag/{pid}").json()["meta"]["versionId"] == "2"
    history = valid(api.get(f"Flag/{pid}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    as_flag = _change("Flag", api.get(f"Flag/{pid}").json())
    refused = writers["Flag"].put(f"Flag/{pid}", as_flag)
    assert refused.status_code == 422  # the enquiry is updated as the Procedure it is
    assert _outcome(refused).expression[0] == "Flag.code.text"
    turned = writers["Flag"].put(f"Flag/{pid}", {**as_flag, "code": {"text": "Child in need"}})
    assert turned.status_code == 422  # nor does it become a child's flag
    assert f"Procedure/{pid}" in _outcome(turned).diagnostics
    assert Fact.objects.for_system("test").get(id=pid).kind == "assessment"


def test_medication_request_and_statement_are_one_fact_with_one_history(
    api: Api, cared_for: Person, nurse: User
) -> None:
    body = _body("MedicationRequest", f"Patient/{cared_for.id}", _ods(nurse))
    created = api.post("MedicationRequest", body).json()
    mid = created["id"]

    statement = api.get(f"MedicationStatement/{mid}").json()
    valid(statement)
    assert statement["status"] == "active"
    assert statement["basedOn"] == [{"reference": f"MedicationRequest/{mid}"}]
    assert statement["effectivePeriod"]["end"].startswith("2025-07-10")
    assert statement["meta"]["versionId"] == "1"

    statement["status"] = "stopped"
    updated = api.put(f"MedicationStatement/{mid}", statement, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content

    request = api.get(f"MedicationRequest/{mid}").json()
    assert request["meta"]["versionId"] == "2"
    assert request["status"] == "stopped"
    assert request["requester"]["reference"] == f"Organization/{_ods(nurse)}"
    stale = api.put(f"MedicationRequest/{mid}", request, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412
    old = valid(api.get(f"MedicationRequest/{mid}/_history/1").json())
    assert old.status == "active"
    assert Fact.objects.for_system("test").filter(kind="medication").count() == 1


def test_medication_request_draft_reads_as_an_intended_statement(
    api: Api, cared_for: Person, nurse: User
) -> None:
    body = {**_body("MedicationRequest", f"Patient/{cared_for.id}", _ods(nurse)), "status": "draft"}

    created = api.post("MedicationRequest", body)

    assert created.status_code == 201, created.content
    assert created.json()["status"] == "draft"
    statement = api.get(f"MedicationStatement/{created.json()['id']}").json()
    assert statement["status"] == "intended"


def test_report_results_are_the_writers_own_observations_of_the_patient(
    api: Api,
    cared_for: Person,
    nurse: User,
    make_fact: Callable[..., Fact],
    make_person: Callable[..., Person],
    relate: Any,
    team: Team,
) -> None:
    feed_observation = make_fact(cared_for, kind="observation")
    other = make_person()
    relate(other, team)
    theirs = api.post(
        "Observation", _observation(f"Patient/{other.id}", "441689006", "Haemoglobin", 120.0)
    ).json()
    subject = f"Patient/{cared_for.id}"

    for target in (f"Observation/{feed_observation.pk}", f"Observation/{theirs['id']}"):
        refused = api.post(
            "DiagnosticReport", _body("DiagnosticReport", subject, _ods(nurse), [target])
        )
        assert refused.status_code == 422, refused.content
        assert _outcome(refused).expression[0] == "DiagnosticReport.result[0]"
    five = [f"Observation/{feed_observation.pk}"] * 5
    too_many = api.post("DiagnosticReport", _body("DiagnosticReport", subject, _ods(nurse), five))
    assert too_many.status_code == 422
    assert _outcome(too_many).expression[0] == "DiagnosticReport.result[4]"

    body = _prepared(api, "DiagnosticReport", cared_for, _ods(nurse))
    report = api.post("DiagnosticReport", body).json()
    found = api.get(f"DiagnosticReport?result={body['result'][0]['reference']}")
    assert [e["resource"]["id"] for e in found.json().get("entry", [])] == [report["id"]]
    fact = Fact.objects.for_system("test").get(id=report["id"])
    observation = Fact.objects.for_system("test").get(id=body["result"][0]["reference"][12:])
    assert fact.detail["result_0"] == observation.record_id  # kept as a feed keeps results


def test_episode_kind_comes_from_its_first_type(api: Api, cared_for: Person, nurse: User) -> None:
    body = _body("EpisodeOfCare", f"Patient/{cared_for.id}", _ods(nurse))
    body["type"] = [{"text": "Hospice episode"}, {"text": "Hospice at home"}]

    created = api.post("EpisodeOfCare", body)

    assert created.status_code == 201, created.content
    fact = Fact.objects.for_system("test").get(id=created.json()["id"])
    assert (fact.kind, fact.display, fact.organisation) == (
        "hospice_episode",
        "Hospice at home",
        _ods(nurse),
    )
    found = api.get(f"EpisodeOfCare?patient={cared_for.id}&category=hospice_episode")
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [created.json()["id"]]


# -- Provenance stays derived


def test_derived_provenance_stays_read_only_and_cannot_be_copied(
    api: Api, cared_for: Person, nurse: User, make_fact: Callable[..., Fact]
) -> None:
    written = api.post("Procedure", _body("Procedure", f"Patient/{cared_for.id}", _ods(nurse)))
    feed = make_fact(cared_for, kind="condition")
    pid = written.json()["id"]

    ours = api.get(f"Provenance/{pid}").json()
    valid(ours)
    assert ours["target"] == [{"reference": f"Procedure/{pid}"}]
    refused_ours = api.put(f"Provenance/{pid}", ours)
    theirs = api.get(f"Provenance/{feed.pk}").json()
    refused_theirs = api.put(f"Provenance/{feed.pk}", theirs)

    assert refused_ours.status_code == 409
    assert f"Procedure/{pid}" in _outcome(refused_ours).diagnostics
    assert refused_theirs.status_code == 409
    assert _outcome(refused_theirs).code == "business-rule"
    # A written Provenance keeps the writer's own statement (test_provenance_writes.py);
    # the derived one's source label has no place in it.
    copied = api.post("Provenance", ours)
    assert copied.status_code == 422
    assert _outcome(copied).expression == ["Provenance.agent[0].who.display"]


# -- Bundles


def test_transaction_creates_a_patient_a_lab_report_and_its_results(api: Api, nurse: User) -> None:
    patient_url = "urn:uuid:6a1d3f0e-2b4c-4d5e-8f90-a1b2c3d4e5f6"
    observation_url = "urn:uuid:0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    report = _body("DiagnosticReport", patient_url, _ods(nurse), [observation_url])
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": report, "request": {"method": "POST", "url": "DiagnosticReport"}},
            {
                "fullUrl": observation_url,
                "resource": _observation(patient_url, "441689006", "Haemoglobin", 131.0),
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "fullUrl": patient_url,
                "resource": patient_body(
                    identifier=[
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}
                    ]
                ),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": _body("Procedure", patient_url, _ods(nurse)),
                "request": {"method": "POST", "url": "Procedure"},
            },
        ],
    }

    response = api.post("", bundle)

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201"] * 4
    person = Person.objects.for_system("test").get(nhs_number="9434765919")
    written, observation = reply.entry[0].resource, reply.entry[1].resource
    assert written.subject.reference == f"Patient/{person.id}"
    assert written.result[0].reference == f"Observation/{observation.id}"
    read = api.get(f"DiagnosticReport/{written.id}").json()
    assert read["result"] == [{"reference": f"Observation/{observation.id}"}]


def test_transaction_with_a_bad_flag_stores_nothing(
    writers: dict[str, Api], cared_for: Person, nurse: User
) -> None:
    good = _body("Flag", f"Patient/{cared_for.id}", _ods(nurse))
    bad = {**good, "code": {"text": "Neighbour dispute"}}
    before = Fact.objects.for_system("test").count()

    response = writers["Flag"].post(
        "",
        {
            "resourceType": "Bundle",
            "type": "transaction",
            "entry": [
                {"resource": good, "request": {"method": "POST", "url": "Flag"}},
                {"resource": bad, "request": {"method": "POST", "url": "Flag"}},
            ],
        },
    )

    assert response.status_code == 422
    assert _outcome(response).expression[0] == "Bundle.entry[1]: Flag.code.text"
    assert Fact.objects.for_system("test").count() == before


# -- malformed bodies


_ODD = [None, "", 0, -1.5, True, [], {}, [{}], {"text": 5}, "x" * 400, [None], "²", "Patient/²"]


@pytest.mark.parametrize("resource_type", TYPES)
def test_mangled_bodies_are_refused_never_a_server_error(
    writers: dict[str, Api], cared_for: Person, nurse: User, resource_type: str
) -> None:
    api = writers[resource_type]
    body = _body(resource_type, f"Patient/{cared_for.id}", _ods(nurse), ["Observation/1"])
    statuses = set()

    for key in [*body, "result", "reaction"]:
        for odd in _ODD:
            response = api.post(resource_type, {**body, key: odd})
            assert response.status_code < 500, (key, odd, response.content)
            statuses.add(response.status_code)
        for inner in ("reference", "text", "start", "coding"):
            value = body.get(key)
            if isinstance(value, dict):
                response = api.post(resource_type, {**body, key: {**value, inner: [1, {}]}})
                assert response.status_code < 500, (key, inner, response.content)

    assert 400 in statuses
    assert statuses <= {201, 400, 403, 422}


# -- Observation: a category and a UCUM code are kept


def test_observation_keeps_its_category_and_ucum_code(api: Api, cared_for: Person) -> None:
    body = _observation(f"Patient/{cared_for.id}", "27113001", "Body weight", 71.5)
    body["category"] = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                    "display": "Vital Signs",
                }
            ]
        }
    ]
    body["valueQuantity"] = {
        "value": 71.5,
        "unit": "kg",
        "system": "http://unitsofmeasure.org",
        "code": "kg",
    }

    created = api.post("Observation", body)

    assert created.status_code == 201, created.content
    oid = created.json()["id"]
    read = api.get(f"Observation/{oid}").json()
    valid(read)
    _assert_holds(read, body, "Observation")
    assert api.put(f"Observation/{oid}", read, HTTP_IF_MATCH='W/"1"').status_code == 200

    def found(query: str) -> list[str]:
        bundle = api.get(f"Observation?patient={cared_for.id}&{query}").json()
        return [e["resource"]["id"] for e in bundle.get("entry", [])]

    assert found("category=vital-signs") == [oid]
    assert found("category=laboratory") == []
    assert found("category=observation") == [oid]
    assert found("category:not=laboratory") == [oid]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            {"category": [{"coding": [{"system": "http://example.org", "code": "vital-signs"}]}]},
            "Observation.category[0]",
        ),
        (
            {
                "valueQuantity": {
                    "value": 1.0,
                    "unit": "kg",
                    "system": "http://example.org",
                    "code": "k",
                }
            },
            "Observation.valueQuantity.system",
        ),
        (
            {"valueQuantity": {"value": 1.0, "unit": "kg", "system": "http://unitsofmeasure.org"}},
            "Observation.valueQuantity.system",
        ),
    ],
)
def test_observation_category_and_units_not_kept_are_refused(
    api: Api, cared_for: Person, change: dict[str, Any], where: str
) -> None:
    body = {**_observation(f"Patient/{cared_for.id}", "27113001", "Body weight", 71.5), **change}

    refused = api.post("Observation", body)

    assert refused.status_code == 422, refused.content
    assert _outcome(refused).expression[0] == where
