"""Written Provenance: a system's own statement of how a resource it wrote came to be
(``record.Attestation``, ids ``a<n>``), served beside the record's derived Provenance."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from tests.integration.fhir.conftest import Api, patient_body, valid

from joinedup.core.access import UnscopedQuery
from joinedup.core.models import AuditEvent, Organisation, OrganisationKind, Team, User
from joinedup.core.roles import Role
from joinedup.fhir.models import ResourceVersion
from joinedup.people.models import Person
from joinedup.record.models import Attestation, Fact

pytestmark = pytest.mark.django_db

SNOMED = "http://snomed.info/sct"
PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"


def _ods(user: User) -> str:
    assert user.organisation is not None
    return user.organisation.ods_code


def _outcome(response: Any) -> Any:
    assert response.json()["resourceType"] == "OperationOutcome", response.json()
    return valid(response.json()).issue[0]


def _condition(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": {"coding": [{"system": SNOMED, "code": "38341003", "display": "Hypertension"}]},
        "subject": {"reference": subject},
        "onsetDateTime": "2025-02-03T09:30:00+00:00",
    }


def _provenance(target: str, author: User, ods: str) -> dict[str, Any]:
    """A statement holding every element the record keeps, in the form it gives back."""
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target}],
        "occurredDateTime": "2025-02-03T09:00:00+00:00",
        "recorded": "2025-02-03T09:35:00+00:00",
        "reason": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "TREAT",
                        "display": "treatment",
                    }
                ]
            }
        ],
        "activity": {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}]},
        "agent": [
            {
                "type": {
                    "coding": [{"system": PARTICIPANT, "code": "author", "display": "Author"}]
                },
                "who": {"reference": f"Practitioner/{author.pk}"},
            },
            {
                "type": {
                    "coding": [{"system": PARTICIPANT, "code": "enterer", "display": "Enterer"}]
                },
                "who": {
                    "reference": f"Organization/{ods}",
                    "identifier": {"system": ODS, "value": ods},
                },
            },
        ],
        "entity": [
            {"role": "source", "what": {"display": "Clinic letter of 2 February 2025"}},
            {"role": "derivation", "what": {"reference": "DocumentReference/letter-7"}},
        ],
    }


def _written(api: Api, person: Person) -> str:
    created = api.post("Condition", _condition(f"Patient/{person.id}"))
    assert created.status_code == 201, created.json()
    return f"Condition/{created.json()['id']}"


def _without_meta(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"meta", "id"}}


def _attestations() -> int:
    return Attestation.objects.for_system("test").count()


@pytest.fixture
def other_organisation(db: None) -> Organisation:
    return Organisation.objects.create(
        ods_code="RXX01", name="Borough Hospital", kind=OrganisationKind.ACUTE_TRUST
    )


@pytest.fixture
def colleague_elsewhere(other_organisation: Organisation, team: Team) -> User:
    """A doctor of another organisation in the same team: sees the same people."""
    user = User.objects.create_user(
        username="hospital-doctor",
        password="correct-horse-battery-staple",
        role=Role.GP,
        organisation=other_organisation,
    )
    user.teams.set([team])
    return user


# -- the whole round


def test_create_read_update_412_vread_and_history(api: Api, cared_for: Person, nurse: User) -> None:
    target = _written(api, cared_for)
    body = _provenance(target, nurse, _ods(nurse))

    created = api.post("Provenance", body)

    assert created.status_code == 201, created.json()
    pid = created.json()["id"]
    assert pid.startswith("a")
    assert created["ETag"] == 'W/"1"'
    assert created["Location"].endswith(f"/Provenance/{pid}/_history/1")
    read = api.get(f"Provenance/{pid}")
    assert read.status_code == 200
    assert read["ETag"] == 'W/"1"'
    assert _without_meta(read.json()) == body
    valid(read.json())
    assert AuditEvent.objects.filter(
        action="create", resource="fhir.Provenance", person_id=cared_for.id
    ).exists()

    changed = {**read.json(), "recorded": "2025-02-03T10:00:00+00:00"}
    changed["agent"] = changed["agent"][:1]
    updated = api.put(f"Provenance/{pid}", changed, HTTP_IF_MATCH='W/"1"')
    assert updated.status_code == 200, updated.json()
    assert updated["ETag"] == 'W/"2"'
    assert len(updated.json()["agent"]) == 1
    stale = api.put(f"Provenance/{pid}", changed, HTTP_IF_MATCH='W/"1"')
    assert stale.status_code == 412

    first = api.get(f"Provenance/{pid}/_history/1")
    assert first.status_code == 200
    assert _without_meta(first.json()) == body
    history = valid(api.get(f"Provenance/{pid}/_history").json())
    assert [e.resource.meta.versionId for e in history.entry] == ["2", "1"]
    assert AuditEvent.objects.filter(
        action="update", resource="fhir.Provenance", person_id=cared_for.id
    ).exists()


def test_a_minimal_statement_and_an_organisation_by_identifier(
    api: Api, cared_for: Person, nurse: User
) -> None:
    target = _written(api, cared_for)
    body = {
        "resourceType": "Provenance",
        "target": [{"reference": target}],
        "recorded": "2025-02-03T09:35:00Z",
        "agent": [{"who": {"identifier": {"system": ODS, "value": _ods(nurse)}}}],
    }

    created = api.post("Provenance", body)

    assert created.status_code == 201, created.json()
    back = valid(created.json())
    assert back.agent[0].who.reference == f"Organization/{_ods(nurse)}"
    assert back.agent[0].type is None


def test_derived_provenance_is_unchanged_and_read_only_beside_written(
    api: Api, cared_for: Person, nurse: User, make_fact: Callable[..., Fact]
) -> None:
    target = _written(api, cared_for)
    fact_id = target.split("/")[1]
    api.post("Provenance", _provenance(target, nurse, _ods(nurse)))
    feed = make_fact(cared_for, kind="condition")

    derived = api.get(f"Provenance/{fact_id}").json()
    valid(derived)

    assert derived["id"] == fact_id
    assert derived["target"] == [{"reference": target}]
    assert derived["entity"][0]["what"]["identifier"]["system"] == "urn:joinedup:delivery"
    refused = api.put(f"Provenance/{fact_id}", derived)
    assert refused.status_code == 409
    assert "create your own Provenance" in _outcome(refused).diagnostics
    feeds = api.put(f"Provenance/{feed.pk}", api.get(f"Provenance/{feed.pk}").json())
    assert feeds.status_code == 409
    assert _outcome(feeds).code == "business-rule"


# -- what is refused


@pytest.mark.parametrize(
    ("change", "element"),
    [
        (
            lambda b: b["agent"][0]["who"].update(display="Dr Nurse"),
            "Provenance.agent[0].who.display",
        ),
        (
            lambda b: b["agent"][0].update(onBehalfOf={"reference": "Organization/X"}),
            "Provenance.agent[0].onBehalfOf",
        ),
        (
            lambda b: b["agent"][0]["type"]["coding"][0].update(code="attester"),
            "Provenance.agent[0].type",
        ),
        (lambda b: b["agent"][0]["who"].update(reference="Patient/1"), "Provenance.agent[0].who"),
        (
            lambda b: b["agent"][0]["who"].update(reference="Practitioner/999999"),
            "Provenance.agent[0].who",
        ),
        (
            lambda b: (
                b["agent"][1]["who"].update(reference="Organization/NOPE1", identifier=None)
                or b["agent"][1]["who"].pop("identifier")
            ),
            "Provenance.agent[1].who",
        ),
        (lambda b: b.update(policy=["http://example.org/policy"]), "Provenance.policy"),
        (lambda b: b.update(location={"reference": "Location/1"}), "Provenance.location"),
        (
            lambda b: (
                b.pop("occurredDateTime") and b.update(occurredPeriod={"start": "2025-01-01"})
            ),
            "Provenance.occurredPeriod",
        ),
        (lambda b: b["activity"].update(text="Written"), "Provenance.activity.text"),
        (lambda b: b["reason"][0].update(text="Care"), "Provenance.reason[0].text"),
        (lambda b: b["entity"][0].update(role="revision"), "Provenance.entity[0].role"),
        (
            lambda b: b["entity"][0]["what"].update(identifier={"value": "x"}),
            "Provenance.entity[0].what.identifier",
        ),
        (
            lambda b: b["entity"][0].update(agent=[{"who": {"display": "A"}}]),
            "Provenance.entity[0].agent",
        ),
        (lambda b: b["target"].append({"reference": "Condition/1"}), "Provenance.target[1]"),
        (lambda b: b.update(target=[{"reference": f"Patient/{b['id']}"}]), "Provenance.target[0]"),
        (lambda b: b.update(occurredDateTime="2025-02"), "Provenance.occurredDateTime"),
    ],
)
def test_what_the_record_cannot_keep_is_refused_naming_the_element(
    api: Api, cared_for: Person, nurse: User, change: Callable[[dict[str, Any]], Any], element: str
) -> None:
    body = _provenance(_written(api, cared_for), nurse, _ods(nurse))
    body["id"] = str(cared_for.id)  # ignored on create; lets a change name the patient
    change(body)

    refused = api.post("Provenance", body)

    assert refused.status_code == 422, refused.json()
    assert _outcome(refused).expression == [element]
    assert _attestations() == 0
    assert (
        not ResourceVersion.objects.for_system("test").filter(resource_type="Provenance").exists()
    )


def test_a_feeds_resource_has_only_its_feeds_provenance(
    api: Api, cared_for: Person, nurse: User, make_fact: Callable[..., Fact]
) -> None:
    feed = make_fact(cared_for, kind="condition")

    refused = api.post("Provenance", _provenance(f"Condition/{feed.pk}", nurse, _ods(nurse)))

    assert refused.status_code == 409
    issue = _outcome(refused)
    assert issue.code == "business-rule"
    assert issue.expression == ["Provenance.target[0]"]
    assert f"Provenance/{feed.pk}" in issue.diagnostics
    assert _attestations() == 0


def test_another_organisations_resource_or_statement_is_refused_and_audited(
    api: Api,
    cared_for: Person,
    nurse: User,
    colleague_elsewhere: User,
    issue: Callable[..., str],
) -> None:
    target = _written(api, cared_for)
    other = Api(Client(), issue(colleague_elsewhere))
    theirs = _provenance(target, colleague_elsewhere, "RXX01")

    refused = other.post("Provenance", theirs)

    assert refused.status_code == 403
    assert _outcome(refused).code == "forbidden"
    assert AuditEvent.objects.filter(
        actor_username="hospital-doctor", action="deny", resource="fhir.Provenance"
    ).exists()
    assert _attestations() == 0

    ours = api.post("Provenance", _provenance(target, nurse, _ods(nurse))).json()
    assert other.get(f"Provenance/{ours['id']}").status_code == 200  # reading is fine
    changed = {**ours, "recorded": "2025-03-01T00:00:00+00:00"}
    assert other.put(f"Provenance/{ours['id']}", changed).status_code == 403
    assert (
        AuditEvent.objects.filter(
            actor_username="hospital-doctor", action="deny", resource="fhir.Provenance"
        ).count()
        == 2
    )
    assert api.put(f"Provenance/{ours['id']}", changed).status_code == 200


def test_a_strangers_resource_is_refused_and_audited(
    api: Api,
    cared_for: Person,
    nurse: User,
    make_user: Callable[..., User],
    make_team: Callable[..., Team],
    issue: Callable[..., str],
) -> None:
    target = _written(api, cared_for)
    outsider = make_user(Role.GP, teams=[make_team()])
    stranger = Api(Client(), issue(outsider))

    refused = stranger.post("Provenance", _provenance(target, outsider, _ods(outsider)))

    assert refused.status_code == 403
    assert AuditEvent.objects.filter(
        actor_username=outsider.username, action="deny", resource="fhir.Provenance"
    ).exists()
    assert _attestations() == 0


def test_a_statement_stays_about_its_resource(api: Api, cared_for: Person, nurse: User) -> None:
    first, second = _written(api, cared_for), _written(api, cared_for)
    created = api.post("Provenance", _provenance(first, nurse, _ods(nurse))).json()
    moved = {**created, "target": [{"reference": second}]}

    refused = api.put(f"Provenance/{created['id']}", moved)

    assert refused.status_code == 422
    assert _outcome(refused).expression == ["Provenance.target[0]"]


def test_a_target_named_as_a_type_that_does_not_show_it_is_refused(
    api: Api, cared_for: Person, nurse: User
) -> None:
    fact_id = _written(api, cared_for).split("/")[1]

    refused = api.post("Provenance", _provenance(f"Observation/{fact_id}", nurse, _ods(nurse)))

    assert refused.status_code == 422
    assert f"Condition/{fact_id}" in _outcome(refused).diagnostics


def test_a_patient_token_writes_only_about_its_patient(
    api: Api,
    cared_for: Person,
    nurse: User,
    make_person: Callable[..., Person],
    relate: Callable[..., object],
    team: Team,
    issue: Callable[..., str],
) -> None:
    other = make_person()
    relate(other, team)
    theirs, ours = _written(api, other), _written(api, cared_for)
    scoped = Api(
        Client(),
        issue(nurse, scopes="patient/Provenance.write patient/*.read", patient_id=cared_for.id),
    )

    refused = scoped.post("Provenance", _provenance(theirs, nurse, _ods(nurse)))
    allowed = scoped.post("Provenance", _provenance(ours, nurse, _ods(nurse)))

    assert refused.status_code == 403
    assert allowed.status_code == 201
    assert _attestations() == 1


def test_statements_are_read_only_through_a_scope() -> None:
    with pytest.raises(UnscopedQuery):
        list(Attestation.objects.all())


# -- reading both kinds together


def test_search_everything_and_paging_serve_both_kinds(
    api: Api, cared_for: Person, nurse: User
) -> None:
    target = _written(api, cared_for)
    fact_id = target.split("/")[1]
    written = api.post("Provenance", _provenance(target, nurse, _ods(nurse))).json()["id"]

    by_target = valid(api.get(f"Provenance?target={target}").json())
    by_patient = valid(api.get(f"Provenance?patient=Patient/{cared_for.id}").json())
    by_id = valid(api.get(f"Provenance?_id={written}").json())
    recorded = valid(api.get("Provenance?recorded=2025-02-03").json())
    everything = api.get(f"Patient/{cared_for.id}/$everything").json()
    revincluded = api.get(f"Condition?_id={fact_id}&_revinclude=Provenance:target").json()

    assert {e.resource.id for e in by_target.entry} == {fact_id, written}
    assert {e.resource.id for e in by_patient.entry} == {fact_id, written}
    assert by_target.total == 2
    assert [e.resource.id for e in by_id.entry] == [written]
    assert [e.resource.id for e in recorded.entry] == [written]
    assert {
        e["resource"]["id"]
        for e in everything["entry"]
        if e["resource"]["resourceType"] == "Provenance"
    } == {fact_id, written}
    assert {
        e["resource"]["id"]
        for e in revincluded["entry"]
        if e["resource"]["resourceType"] == "Provenance"
    } == {fact_id, written}


@pytest.mark.parametrize("sort", ["", "&_sort=recorded", "&_sort=-recorded", "&_sort=_id"])
def test_pages_cross_both_kinds_without_repeats_or_gaps(
    api: Api, cared_for: Person, nurse: User, sort: str
) -> None:
    targets = [_written(api, cared_for) for _ in range(3)]
    for target in targets:
        api.post("Provenance", _provenance(target, nurse, _ods(nurse)))
    expected = {t.split("/")[1] for t in targets} | {
        f"a{pk}" for pk in Attestation.objects.for_system("test").values_list("pk", flat=True)
    }

    seen: list[str] = []
    url: str | None = f"Provenance?patient={cared_for.id}&_count=2{sort}"
    while url is not None:
        page = valid(api.get(url).json())
        assert page.total == 6
        seen += [e.resource.id for e in page.entry or []]
        following = [link.url for link in page.link if link.relation == "next"]
        url = following[0].split("/fhir/R4/", 1)[1] if following else None

    assert sorted(seen) == sorted(expected)
    assert len(seen) == 6
    written_first = [pid.startswith("a") for pid in seen] == [True] * 3 + [False] * 3
    if sort == "&_sort=recorded":  # the statements say 2025; the writes were received now
        assert written_first
    if sort == "&_sort=-recorded":
        assert [pid.startswith("a") for pid in seen] == [False] * 3 + [True] * 3


def test_a_malformed_cursor_is_refused(api: Api) -> None:
    assert api.get("Provenance?_cursor=WzEsMiwzXQ").status_code == 400


def test_include_names_the_targets_own_type(api: Api, cared_for: Person, nurse: User) -> None:
    target = _written(api, cared_for)
    written = api.post("Provenance", _provenance(target, nurse, _ods(nurse))).json()["id"]

    found = api.get(f"Provenance?_id={written}&_include=Provenance:target").json()

    included = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "include"]
    assert [(r["resourceType"], r["id"]) for r in included] == [tuple(target.split("/"))]


# -- Bundles and odd bodies


def test_transaction_creates_a_patient_a_condition_and_its_provenance(
    api: Api, nurse: User
) -> None:
    patient_url = "urn:uuid:7b2e4f1a-3c5d-4e6f-8a9b-b1c2d3e4f5a6"
    condition_url = "urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-e0f1a2b3c4d5"
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": _provenance(condition_url, nurse, _ods(nurse)),
                "request": {"method": "POST", "url": "Provenance"},
            },
            {
                "fullUrl": condition_url,
                "resource": _condition(patient_url),
                "request": {"method": "POST", "url": "Condition"},
            },
            {
                "fullUrl": patient_url,
                "resource": patient_body(),
                "request": {"method": "POST", "url": "Patient"},
            },
        ],
    }

    reply = api.post("", bundle)

    assert reply.status_code == 200, reply.json()
    entries = valid(reply.json()).entry
    assert [e.response.status[:3] for e in entries] == ["201", "201", "201"]
    condition_id = entries[1].response.location.split("/")[-3]
    provenance_id = entries[0].response.location.split("/")[-3]
    read = api.get(f"Provenance/{provenance_id}").json()
    assert read["target"] == [{"reference": f"Condition/{condition_id}"}]


def test_transaction_with_a_bad_provenance_stores_nothing(api: Api, nurse: User) -> None:
    patient_url = "urn:uuid:7b2e4f1a-3c5d-4e6f-8a9b-b1c2d3e4f5a7"
    condition_url = "urn:uuid:1a2b3c4d-5e6f-4a7b-8c9d-e0f1a2b3c4d6"
    bad = _provenance(condition_url, nurse, _ods(nurse))
    bad["policy"] = ["http://example.org/policy"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_url,
                "resource": patient_body(),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": condition_url,
                "resource": _condition(patient_url),
                "request": {"method": "POST", "url": "Condition"},
            },
            {"resource": bad, "request": {"method": "POST", "url": "Provenance"}},
        ],
    }

    reply = api.post("", bundle)

    assert reply.status_code == 422
    assert _attestations() == 0
    assert api.get("Patient?family=Fhirtest").json()["total"] == 0


def _mangled(body: dict[str, Any]) -> list[Any]:
    """Each element replaced by values of the wrong shape, one at a time."""
    out: list[Any] = []
    odd: list[Any] = [None, 1, "x", [], {}, [1], [{}], {"a": 1}, True, [[]], [None]]

    def walk(node: Any, path: list[Any]) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            for replacement in odd:
                copied = copy.deepcopy(body)
                holder = copied
                for step in path:
                    holder = holder[step]
                holder[key] = replacement
                out.append(copied)
            if isinstance(value, dict | list):
                walk(value, [*path, key])

    walk(body, [])
    return out


def test_mangled_bodies_are_refused_never_a_server_error(
    api: Api, cared_for: Person, nurse: User
) -> None:
    target = _written(api, cared_for)
    body = _provenance(target, nurse, _ods(nurse))
    created = api.post("Provenance", body).json()

    statuses = set()
    for mangled in _mangled(body):
        statuses.add(api.post("Provenance", mangled).status_code)
        mangled["id"] = created["id"]
        statuses.add(api.put(f"Provenance/{created['id']}", mangled).status_code)

    assert all(400 <= status < 500 or status in (200, 201) for status in statuses), statuses


def test_odd_searches_are_refused_never_a_server_error(
    api: Api, cared_for: Person, nurse: User
) -> None:
    target = _written(api, cared_for)
    api.post("Provenance", _provenance(target, nurse, _ods(nurse)))
    names = ["_id", "_lastUpdated", "target", "patient", "recorded", "_sort", "_cursor"]
    modifiers = ["", ":not", ":missing", ":exact", ":Patient", ":Condition"]
    odd = [
        "",
        "a1",
        "a",
        "a99999999999999999999",
        "-recorded",
        "ge2025-01-01",
        "true",
        "WzEsMiwzXQ",
        "WyJ4IiwwLDFd",
        "WzAsMS41XQ",
        f"Patient/{cared_for.id}",
        "x" * 300,
    ]

    statuses = {
        api.get(f"Provenance?{name}{modifier}={value}").status_code
        for name in names
        for modifier in modifiers
        for value in odd
    }

    assert statuses <= {200, 400, 422}, statuses
    assert 200 in statuses


def test_including_a_derived_provenances_target_gives_it_as_its_own_type(
    api: Api, cared_for: Person, make_fact: Callable[..., Fact]
) -> None:
    condition = make_fact(cared_for, kind="condition", status="active")
    observation = make_fact(cared_for)

    found = api.get(
        f"Provenance?_id={condition.pk},{observation.pk}&_include=Provenance:target"
    ).json()

    included = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in found["entry"]
        if e["search"]["mode"] == "include"
    }
    assert included == {f"Condition/{condition.pk}", f"Observation/{observation.pk}"}
    valid(found)
