"""People endpoints of the JSON API: the same access rules and audit as the web pages."""

from __future__ import annotations

import uuid
from datetime import date

from django.http import HttpRequest
from ninja import Router, Schema

from joinedup.core.access import require_user
from joinedup.people import services

router = Router(tags=["people"])


class PersonSummary(Schema):
    id: uuid.UUID
    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date | None
    sex: str
    postcode: str
    registered_practice_ods: str | None
    date_of_death: date | None


@router.get("/{uuid:person_id}", response=PersonSummary, url_name="person")
def person_summary(request: HttpRequest, person_id: uuid.UUID) -> PersonSummary:
    person = services.person_open(
        user=require_user(request), person_id=person_id, resource="person.summary"
    )
    practice = person.registered_practice
    return PersonSummary(
        id=person.id,
        nhs_number=person.nhs_number,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        sex=person.sex,
        postcode=person.postcode,
        registered_practice_ods=practice.ods_code if practice else None,
        date_of_death=person.date_of_death,
    )
