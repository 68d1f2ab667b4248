"""Factories for the care-home register: homes, practice sites, and facts about residents."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from joinedup.carehomes.models import CareHome, CareHomeKind, PracticeSite
from joinedup.core.models import Organisation, OrganisationKind
from joinedup.people.models import Person, SourceIdentity
from joinedup.record.models import Delivery, Fact

_n = itertools.count(1)


@pytest.fixture
def make_practice(db: None) -> Callable[..., Organisation]:
    def make(
        latitude: float = 53.40, longitude: float = -2.15, list_size: int = 8000
    ) -> Organisation:
        n = next(_n)
        practice = Organisation.objects.create(
            ods_code=f"Q{n:05d}", name=f"Practice {n}", kind=OrganisationKind.GP_PRACTICE
        )
        PracticeSite.objects.create(
            practice=practice, latitude=latitude, longitude=longitude, list_size=list_size
        )
        return practice

    return make


@pytest.fixture
def make_home(db: None) -> Callable[..., CareHome]:
    def make(
        latitude: float = 53.40,
        longitude: float = -2.15,
        beds: int = 40,
        practice: Organisation | None = None,
        **extra: Any,
    ) -> CareHome:
        n = next(_n)
        fields: dict[str, Any] = {
            "code": f"VH{n:03d}",
            "name": f"Holly Lodge {n}",
            "kind": CareHomeKind.RESIDENTIAL,
            "beds": beds,
            "postcode": f"SK{n % 9 + 1} 1AB",
            "latitude": latitude,
            "longitude": longitude,
            "aligned_practice": practice,
        }
        fields.update(extra)
        return CareHome.objects.create(**fields)

    return make


@pytest.fixture
def make_resident(make_person: Callable[..., Person]) -> Callable[..., Person]:
    def make(home: CareHome, **extra: Any) -> Person:
        return make_person(address=f"Room 4, {home.name}", postcode=home.postcode, **extra)

    return make


@pytest.fixture
def add_fact() -> Callable[..., Fact]:
    def add(person: Person, kind: str, days_ago: int, **extra: Any) -> Fact:
        now = timezone.now()
        n = next(_n)
        delivery = Delivery.objects.create(
            feed="gp", path=f"f{n}", sha256=f"{n:064d}", size=1, received_at=now, status="complete"
        )
        identity, _ = SourceIdentity.objects.for_system("test facts").get_or_create(
            source=extra.get("source", "gp"),
            source_id=str(person.pk),
            defaults={"person": person, "delivery_id": delivery.pk, "received_at": now},
        )
        when = now - dt.timedelta(days=days_ago)
        fields: dict[str, Any] = {
            "identity": identity,
            "source": "gp",
            "record_id": f"r{n}",
            "kind": kind,
            "occurred_at": when,
            "delivery": delivery,
            "received_at": now,
        }
        fields.update(extra)
        return Fact.objects.create(**fields)

    return add
