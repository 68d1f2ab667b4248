"""Clinical writes through the FHIR API: the fact-backed types created and updated as
record facts with provenance, versions, access rules, audit and all-or-nothing Bundles."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.models import AuditEvent, Organisation, OrganisationKind, Team, User
from joinedup.core.roles import Role
from joinedup.fhir.models import ResourceVersion
from joinedup.people.models import Person, SourceIdentity
from joinedup.people.services import person_open
from joinedup.record import selectors as record_selectors
from joinedup.record.models import Delivery, Fact

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _condition(person: Person, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "code": {
            "coding": [{"system": SNOMED, "code": "38341003", "display": "Hypertension"}],
            "text": "Hypertension",
        },
        "subject": {"reference": f"Patient/{person.id}"},
        "onsetDateTime": "2025-02-03T09:30:00+00:00",
    }
    body.update(extra)
    return body


def _observation(subject: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": "27113001", "display": "Body weight"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": "2025-03-01T10:00:00Z",
        "valueQuantity": {"value": 71.5, "unit": "kg"},
    }
    body.update(extra)
    return body


def _bodies(person: Person, ods: str) -> dict[str, dict[str, Any]]:
    """One body of each writable type, holding only what the record keeps."""
    subject = {"reference": f"Patient/{person.id}"}
    return {
        "Condition": _condition(person),
        "Observation": _observation(
            f"Patient/{person.id}",
            code={"coding": [{"system": SNOMED, "code": "75367002", "display": "Blood pressure"}]},
            valueQuantity=None,
            component=[
                {
                    "code": {
                        "coding": [
                            {
                                "system": SNOMED,
                                "code": "271649006",
                                "display": "Systolic blood pressure",
                            }
                        ]
                    },
                    "valueQuantity": {"value": 142, "unit": "mm[Hg]"},
                },
                {
                    "code": {
                        "coding": [
                            {
                                "system": SNOMED,
                                "code": "271650006",
                                "display": "Diastolic blood pressure",
                            }
                        ]
                    },
                    "valueQuantity": {"value": 91, "unit": "mm[Hg]"},
                },
            ],
        ),
        "AllergyIntolerance": {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                        "code": "active",
                    }
                ]
            },
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                        "code": "confirmed",
                    }
                ]
            },
            "type": "allergy",
            "category": ["medication"],
            "criticality": "high",
            "code": {"coding": [{"system": SNOMED, "code": "91936005", "display": "Penicillin"}]},
            "patient": subject,
            "recordedDate": "2024-11-20",
            "reaction": [
                {
                    "manifestation": [
                        {
                            "coding": [
                                {"system": SNOMED, "code": "39579001", "display": "Anaphylaxis"}
                            ]
                        }
                    ]
                }
            ],
        },
        "Immunization": {
            "resourceType": "Immunization",
            "extension": [
                {
                    "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-VaccinationProcedure",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": SNOMED,
                                "code": "884861000000100",
                                "display": "Seasonal influenza vaccination",
                            }
                        ]
                    },
                }
            ],
            "status": "completed",
            "vaccineCode": {"text": "Fluenz"},
            "patient": subject,
            "occurrenceDateTime": "2025-10-01T11:00:00+00:00",
            "performer": [{"actor": {"reference": f"Organization/{ods}"}}],
        },
        "MedicationStatement": {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {
                "coding": [{"system": SNOMED, "code": "318420003", "display": "Amlodipine 5mg"}]
            },
            "subject": subject,
            "effectivePeriod": {"start": "2025-01-10T00:00:00+00:00"},
        },
        "Encounter": {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "HH",
            },
            "type": [
                {"coding": [{"system": SNOMED, "code": "439708006", "display": "Home visit"}]}
            ],
            "subject": subject,
            "period": {"start": "2025-04-02T14:00:00+00:00", "end": "2025-04-02T14:40:00+00:00"},
            "serviceProvider": {"reference": f"Organization/{ods}"},
        },
    }


def _ods(user: User) -> str:
    assert user.organisation is not None
    return user.organisation.ods_code


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome"
    return valid(response.json()).issue[0]


@pytest.fixture
def other_organisation(db: None) -> Organisation:
    return Organisation.objects.create(
        ods_code="RXX01", name="Borough Hospital", kind=OrganisationKind.ACUTE_TRUST
    )


def _user_of(organisation: Organisation, team: Team, username: str) -> User:
    user = User.objects.create_user(
        username=username,
        password="correct-horse-battery-staple",
        role=Role.GP,
        organisation=organisation,
    )
    user.teams.set([team])
    return user


# -- the whole round


def test_condition_create_read_search_update_412_history_and_provenance(
    api: Api, cared_for: Person, nurse: User
) -> None:
    created = api.post("Condition", _condition(cared_for))

    assert created.status_code == 201, created.content
    condition = valid(created.json())
    fid = condition.id
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith(f"/Condition/{fid}/_history/1")
    assert condition.code.coding[0].code == "38341003"
    fact = Fact.objects.for_system("test").select_related("identity", "delivery").get(id=fid)
    ods = _ods(nurse)
    assert (fact.source, fact.kind, fact.status, fact.organisation) == (
        "fhir-api",
        "condition",
        "active",
        ods,
    )
    assert fact.identity.source == "fhir-api"
    assert fact.identity.source_id == f"{ods}/{cared_for.id}"
    assert fact.identity.person_id == cared_for.id
    delivery = fact.delivery
    assert (delivery.feed, delivery.path, delivery.status) == (
        "fhir-api",
        f"Condition/{fid}/_history/1",
        "complete",
    )
    assert (delivery.rows_in, delivery.accepted, delivery.quarantined) == (1, 1, 0)
    sent = json.dumps(
        _condition(cared_for), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert delivery.sha256 == hashlib.sha256(sent.encode()).hexdigest()
    assert AuditEvent.objects.filter(
        action="create", resource="fhir.Condition", person_id=cared_for.id, channel="fhir"
    ).exists()

    read = api.get(f"Condition/{fid}")
    assert read.status_code == 200
    assert read["ETag"] == 'W/"1"'
    assert read.json() == created.json()

    found = api.get(f"Condition?patient={cared_for.id}&code={SNOMED}|38341003")
    assert found.status_code == 200
    assert [e.resource.id for e in valid(found.json()).entry] == [fid]

    provenance = valid(api.get(f"Provenance/{fid}").json())
    assert provenance.agent[0].who.identifier.value == ods
    assert provenance.agent[0].who.display == "Other systems (FHIR API)"

    changed = read.json()
    changed["clinicalStatus"]["coding"][0]["code"] = "resolved"
    changed["abatementDateTime"] = "2025-06-01"
    updated = api.put(f"Condition/{fid}", changed, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content
    assert updated["ETag"] == 'W/"2"'
    assert valid(updated.json()).clinicalStatus.coding[0].code == "resolved"
    fact.refresh_from_db()
    assert fact.status == "resolved"
    assert fact.ended_at is not None
    assert fact.delivery.path == f"Condition/{fid}/_history/2"
    assert AuditEvent.objects.filter(
        action="update", resource="fhir.Condition", person_id=cared_for.id
    ).exists()

    stale = api.put(f"Condition/{fid}", changed, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412
    assert _outcome(stale).code == "conflict"

    history = valid(api.get(f"Condition/{fid}/_history").json())
    assert history.type == "history"
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert history.entry[1].resource.clinicalStatus.coding[0].code == "active"
    old = api.get(f"Condition/{fid}/_history/1")
    assert old.status_code == 200
    assert valid(old.json()).clinicalStatus.coding[0].code == "active"
    assert api.get(f"Condition/{fid}/_history/3").status_code == 404
    assert api.get(f"Condition/{fid}").json()["meta"]["versionId"] == "2"


@pytest.mark.parametrize(
    "resource_type",
    [
        "AllergyIntolerance",
        "Condition",
        "Encounter",
        "Immunization",
        "MedicationStatement",
        "Observation",
    ],
)
def test_each_writable_type_reads_back_what_was_sent(
    api: Api, cared_for: Person, nurse: User, resource_type: str
) -> None:
    body = {
        k: v for k, v in _bodies(cared_for, _ods(nurse))[resource_type].items() if v is not None
    }

    created = api.post(resource_type, body)

    assert created.status_code == 201, created.content
    back = api.get(f"{resource_type}/{created.json()['id']}").json()
    valid(back)
    _assert_holds(back, body, resource_type)
    updated = api.put(f"{resource_type}/{back['id']}", back, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.content  # what was read can be written back
    assert updated["ETag"] == 'W/"2"'


def _assert_holds(back: Any, sent: Any, where: str) -> None:
    """Everything sent is in what was read back (dates compared as instants)."""
    from datetime import datetime

    if isinstance(sent, dict):
        for key, value in sent.items():
            assert key in back, f"{where}.{key} was lost"
            _assert_holds(back[key], value, f"{where}.{key}")
    elif isinstance(sent, list):
        for index, item in enumerate(sent):
            _assert_holds(back[index], item, f"{where}[{index}]")
    elif isinstance(sent, str) and len(sent) >= 10 and sent[:4].isdigit() and sent[4] == "-":
        first = datetime.fromisoformat(sent if "T" in sent else sent + "T00:00:00+00:00")
        assert first == datetime.fromisoformat(back), where
    else:
        assert back == sent, where


def test_conditional_create_returns_the_existing_record(api: Api, cared_for: Person) -> None:
    body = _condition(cared_for)
    criteria = f"patient={cared_for.id}&code={SNOMED}|38341003"
    first = api.post("Condition", body, HTTP_IF_NONE_EXIST=criteria)
    second = api.post("Condition", body, HTTP_IF_NONE_EXIST=criteria)

    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert Fact.objects.for_system("test").filter(source="fhir-api").count() == 1


# -- who may write what


def test_feed_fact_cannot_be_updated_through_the_api(
    api: Api, cared_for: Person, make_fact: Callable[..., Fact]
) -> None:
    fact = make_fact(cared_for, kind="condition", status="active", code="38341003")
    body = api.get(f"Condition/{fact.pk}").json()
    body["clinicalStatus"]["coding"][0]["code"] = "resolved"

    refused = api.put(f"Condition/{fact.pk}", body)

    assert refused.status_code == 409
    issue = _outcome(refused)
    assert issue.code == "business-rule"
    assert "gp feed" in issue.diagnostics
    fact.refresh_from_db()
    assert fact.status == "active"
    assert not ResourceVersion.objects.for_system("test").filter(logical_id=str(fact.pk)).exists()


def test_only_the_writing_organisation_updates_its_record(
    api: Api,
    cared_for: Person,
    team: Team,
    other_organisation: Organisation,
    issue: Callable[..., str],
) -> None:
    created = api.post("Condition", _condition(cared_for)).json()
    colleague = _user_of(other_organisation, team, "hospital-doctor")
    other = Api(Client(), issue(colleague))
    created["clinicalStatus"]["coding"][0]["code"] = "resolved"

    refused = other.put(f"Condition/{created['id']}", created)

    assert refused.status_code == 403
    assert _outcome(refused).code == "forbidden"
    assert AuditEvent.objects.filter(
        actor_username="hospital-doctor", action="deny", resource="fhir.Condition"
    ).exists()
    assert other.get(f"Condition/{created['id']}").status_code == 200  # reading is fine
    allowed = api.put(f"Condition/{created['id']}", created)
    assert allowed.status_code == 200  # the writer's organisation may


def test_write_about_a_stranger_is_refused_audited_and_stores_nothing(
    api: Api, make_person: Callable[..., Person], cared_for: Person
) -> None:
    stranger = make_person()
    deliveries = Delivery.objects.count()

    refused = api.post("Condition", _condition(stranger))

    assert refused.status_code == 403
    assert _outcome(refused).code == "forbidden"
    assert AuditEvent.objects.filter(
        action="deny", outcome="denied", resource="fhir.Condition"
    ).exists()
    assert not Fact.objects.for_system("test").filter(identity__person=stranger).exists()
    assert Delivery.objects.count() == deliveries
    assert api.post("Condition", _condition(cared_for)).status_code == 201


def test_unknown_patient_is_unprocessable(api: Api) -> None:
    body = _observation("Patient/7f1c2a56-1d7e-4f0e-9b7a-0c1d2e3f4a5b")

    refused = api.post("Observation", body)

    assert refused.status_code == 422
    assert _outcome(refused).expression == ["Observation.subject"]


def test_write_needs_a_write_scope_for_the_type(
    nurse: User, cared_for: Person, issue: Callable[..., str]
) -> None:
    reader = Api(Client(), issue(nurse, "user/*.read user/Observation.write"))
    writer = Api(Client(), issue(nurse, "user/*.read user/Condition.write"))

    refused = reader.post("Condition", _condition(cared_for))
    allowed = writer.post("Condition", _condition(cared_for))

    assert refused.status_code == 403
    assert _outcome(refused).code == "forbidden"
    assert allowed.status_code == 201
    assert writer.put(f"Condition/{allowed.json()['id']}", allowed.json()).status_code == 200


def test_patient_token_writes_only_about_its_patient(
    nurse: User, cared_for: Person, make_person: Callable[..., Person], relate: Any, team: Team
) -> None:
    other = make_person()
    relate(other, team)
    from joinedup.fhir import services

    token = services.token_issue(
        user=nurse, scopes="patient/Condition.write patient/*.read", patient_id=cared_for.id
    ).token
    api = Api(Client(), token)

    assert api.post("Condition", _condition(other)).status_code == 403
    assert api.post("Condition", _condition(cared_for)).status_code == 201


# -- what cannot be kept


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"note": [{"text": "Seen by Dr Who"}]}, 422, "Condition.note"),
        ({"onsetDateTime": "2020"}, 422, "Condition.onsetDateTime"),
        (
            {
                "code": {
                    "coding": [{"system": SNOMED, "code": "1"}, {"system": SNOMED, "code": "2"}]
                }
            },
            422,
            "Condition.code.coding[1]",
        ),
        (
            {"category": [{"coding": [{"code": "encounter-diagnosis"}]}]},
            422,
            "Condition.category[0].coding[0].code",
        ),
        ({"subject": {"reference": "Group/1"}}, 422, "Condition.subject"),
        ({"clinicalStatus": "active"}, 400, "Condition.clinicalStatus"),
    ],
)
def test_what_the_record_cannot_hold_is_refused_naming_the_element(
    api: Api, cared_for: Person, change: dict[str, Any], status: int, where: str
) -> None:
    before = Fact.objects.for_system("test").count()

    refused = api.post("Condition", _condition(cared_for, **change))

    assert refused.status_code == status, refused.content
    assert _outcome(refused).expression[0].startswith(where)
    assert Fact.objects.for_system("test").count() == before


def test_update_cannot_move_a_record_to_another_patient(
    api: Api, cared_for: Person, make_person: Callable[..., Person], relate: Any, team: Team
) -> None:
    other = make_person()
    relate(other, team)
    created = api.post("Condition", _condition(cared_for)).json()
    moved = {**created, "subject": {"reference": f"Patient/{other.id}"}}

    refused = api.put(f"Condition/{created['id']}", moved)

    assert refused.status_code == 422
    assert _outcome(refused).expression == ["Condition.subject"]


def test_types_that_are_not_written_refuse_create(api: Api, cared_for: Person) -> None:
    body = {
        "resourceType": "AuditEvent",
        "type": {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110110"},
        "recorded": "2025-01-01T00:00:00Z",
        "agent": [{"requestor": True, "who": {"display": "A system"}}],
        "source": {"observer": {"display": "A system"}},
        "entity": [{"what": {"reference": f"Patient/{cared_for.id}"}}],
    }

    refused = api.post("AuditEvent", body)

    assert refused.status_code == 400
    assert _outcome(refused).code == "not-supported"


def test_capability_statement_lists_create_and_update_only_where_they_work(client: Any) -> None:
    statement = valid(client.get("/fhir/R4/metadata").json())
    interactions = {r.type: {i.code for i in r.interaction} for r in statement.rest[0].resource}

    for name in (
        "AllergyIntolerance",
        "Condition",
        "DiagnosticReport",
        "Encounter",
        "EpisodeOfCare",
        "Flag",
        "Immunization",
        "MedicationRequest",
        "MedicationStatement",
        "Observation",
        "Patient",
        "Procedure",
        "Provenance",
    ):
        assert {"create", "update"} <= interactions[name], name
    assert not {"create", "update"} & interactions["AuditEvent"]


# -- Bundles


def _transaction_bundle(observation_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    patient_url = "urn:uuid:5d2b4c1e-8a3f-4e6b-9c7d-1f2e3a4b5c6d"
    condition = {
        "resourceType": "Condition",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": SNOMED, "code": "44054006", "display": "Diabetes"}]},
        "subject": {"reference": patient_url},
        "onsetDateTime": "2024-05-06",
    }
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            # The Condition comes first: it is created after the Patient it refers to.
            {"resource": condition, "request": {"method": "POST", "url": "Condition"}},
            {
                "fullUrl": patient_url,
                "resource": patient_body(
                    identifier=[
                        {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765870"}
                    ]
                ),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": _observation(patient_url, **(observation_extra or {})),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }


def test_transaction_creates_a_patient_and_their_records_together(api: Api, nurse: User) -> None:
    response = api.post("", _transaction_bundle())

    assert response.status_code == 200, response.content
    reply = valid(response.json())
    assert [e.response.status[:3] for e in reply.entry] == ["201", "201", "201"]
    person = Person.objects.for_system("test").get(nhs_number="9434765870")
    condition, _, observation = (e.resource for e in reply.entry)
    assert condition.subject.reference == f"Patient/{person.id}"
    assert observation.subject.reference == f"Patient/{person.id}"
    facts = Fact.objects.for_system("test").filter(identity__person=person)
    assert sorted(facts.values_list("kind", flat=True)) == ["condition", "observation"]

    opened = person_open(user=nurse, person_id=person.id)
    rows = record_selectors.timeline(user=nurse, person=opened)
    assert {(r["kind"], r["source"], r["organisation"]) for r in rows} == {
        ("condition", "fhir-api", _ods(nurse)),
        ("observation", "fhir-api", _ods(nurse)),
    }


def test_transaction_with_one_bad_entry_stores_nothing(api: Api) -> None:
    people = Person.objects.for_system("test").count()
    counts = (
        Fact.objects.for_system("test").count(),
        Delivery.objects.count(),
        SourceIdentity.objects.for_system("test").count(),
        ResourceVersion.objects.for_system("test").count(),
    )

    response = api.post("", _transaction_bundle({"note": [{"text": "extra"}]}))

    assert response.status_code == 422, response.content
    issue = _outcome(response)
    assert issue.expression[0] == "Bundle.entry[2]: Observation.note"
    assert "nothing was saved" in issue.diagnostics
    assert Person.objects.for_system("test").count() == people
    assert counts == (
        Fact.objects.for_system("test").count(),
        Delivery.objects.count(),
        SourceIdentity.objects.for_system("test").count(),
        ResourceVersion.objects.for_system("test").count(),
    )


def test_refusals_inside_bundles_stay_audited(
    api: Api, make_person: Callable[..., Person], cared_for: Person
) -> None:
    stranger = make_person()
    entry = {"resource": _condition(stranger), "request": {"method": "POST", "url": "Condition"}}
    ok = {"resource": _condition(cared_for), "request": {"method": "POST", "url": "Condition"}}

    batch = api.post("", {"resourceType": "Bundle", "type": "batch", "entry": [entry, ok]})
    transaction = api.post("", {"resourceType": "Bundle", "type": "transaction", "entry": [entry]})

    assert batch.status_code == 200
    statuses = [e.response.status[:3] for e in valid(batch.json()).entry]
    assert statuses == ["403", "201"]
    assert transaction.status_code == 403
    denied = AuditEvent.objects.filter(action="deny", resource="fhir.Condition")
    assert denied.count() == 2


# -- the person's record


def test_written_fact_shows_on_the_person_page_with_its_organisation(
    api: Api, cared_for: Person, nurse: User, signed_in: Callable[[User], Client]
) -> None:
    body = copy.deepcopy(_bodies(cared_for, _ods(nurse))["Encounter"])
    assert api.post("Encounter", body).status_code == 201

    page = signed_in(nurse).get(f"/people/{cared_for.id}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Home visit" in html
    assert f"Other systems (FHIR API) ({_ods(nurse)})" in html
