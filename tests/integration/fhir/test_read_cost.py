"""What one FHIR read costs the database: a bounded number of queries, none over the caseload.

Reading one Patient or searching by NHS number checks the access rule for that person
only (correlated probes, see ``people.models.VisibleTo``), never by first listing every
person the caller's team cares for; a list keeps the caseload form. Each read is still
audited and the chain still verifies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.integration.fhir.conftest import Api, valid

from joinedup.core.audit import verify_chain
from joinedup.core.models import AuditEvent, Team
from joinedup.people.models import Person

pytestmark = pytest.mark.django_db

NHS = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture
def caseload(
    make_person: Callable[..., Person], relate: Callable[..., object], team: Team
) -> list[Person]:
    people = [make_person() for _ in range(5)]
    for person in people:
        relate(person, team)
    return people


def _person_queries(queries: list[dict[str, Any]]) -> list[str]:
    table = Person._meta.db_table
    return [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"]]


def test_patient_read_checks_only_that_person(api: Api, caseload: list[Person]) -> None:
    person = caseload[2]
    audited = AuditEvent.objects.filter(person_id=person.id, action="read").count()

    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"Patient/{person.id}")

    reads = _person_queries(queries.captured_queries)
    assert response.status_code == 200
    assert valid(response.json()).id == str(person.id)
    assert len(reads) == 1
    assert "EXISTS" in reads[0]
    assert 'ORDER BY "people_person"' not in reads[0]  # one row: nothing to sort
    if connection.vendor == "postgresql":  # the token, the person with its versions, the audit
        assert len(queries.captured_queries) == 3
    else:
        assert len(queries.captured_queries) <= 10
    assert AuditEvent.objects.filter(person_id=person.id, action="read").count() == audited + 1
    assert verify_chain().ok


def test_patient_search_by_nhs_number_checks_only_that_person(
    api: Api, caseload: list[Person]
) -> None:
    person = caseload[3]

    with CaptureQueriesContext(connection) as queries:
        response = api.get(f"Patient?identifier={NHS}|{person.nhs_number}")

    reads = _person_queries(queries.captured_queries)
    bundle = valid(response.json())
    assert [e.resource.id for e in bundle.entry] == [str(person.id)]
    assert reads
    assert all("EXISTS" in sql for sql in reads)


def test_patient_list_search_reads_the_caseload_once(api: Api, caseload: list[Person]) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("Patient?_count=50")

    reads = _person_queries(queries.captured_queries)
    bundle = valid(response.json())
    assert {e.resource.id for e in bundle.entry} == {str(p.id) for p in caseload}
    assert reads
    assert not any("EXISTS" in sql for sql in reads)


def test_patient_read_outside_care_is_refused_and_audited(
    api: Api, make_person: Callable[..., Person]
) -> None:
    stranger = make_person()

    response = api.get(f"Patient/{stranger.id}")

    assert response.status_code == 403
    assert valid(response.json()).issue[0].code == "forbidden"
    assert AuditEvent.objects.filter(action="deny", resource="fhir.Patient").exists()
