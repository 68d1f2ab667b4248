"""View models for person pages: what a page shows, computed once, nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from joinedup.core.nhs_number import format_for_display
from joinedup.people.models import Person


@dataclass(frozen=True)
class PersonHeader:
    id: str
    name: str
    nhs_number: str
    date_of_birth: date
    age: int
    sex: str
    address: str
    postcode: str
    practice: str
    deceased_on: date | None
    opted_out: bool

    @classmethod
    def of(cls, person: Person, *, today: date) -> PersonHeader:
        practice = person.registered_practice
        return cls(
            id=str(person.id),
            name=person.display_name,
            nhs_number=format_for_display(person.nhs_number) if person.nhs_number else "Not known",
            date_of_birth=person.date_of_birth,
            age=person.age_on(today),
            sex=person.get_sex_display(),
            address=person.address,
            postcode=person.postcode,
            practice=practice.name if practice else "Not registered",
            deceased_on=person.date_of_death,
            opted_out=person.opted_out_secondary_use,
        )
