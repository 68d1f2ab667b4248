"""The board's care-home and package flags, derived from the record at each build:
the hospital's address for its patient (against the care-home register) and adult social
care's packages; the board's own recording always wins."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.utils import timezone

from joinedup.carehomes.models import CareHome, CareHomeKind
from joinedup.core.models import Team, User
from joinedup.discharge import services
from joinedup.discharge.models import FlagSource, Stay
from joinedup.people.models import Person, SourceIdentity
from joinedup.record.models import Delivery, Fact, FactKind

pytestmark = pytest.mark.django_db
_ids = count(1)


def _delivery(feed: str) -> Delivery:
    n = next(_ids)
    return Delivery.objects.create(
        feed=feed,
        path=f"{feed}/{n}.csv",
        sha256=f"{n:064d}",
        size=0,
        received_at=timezone.now(),
        status="complete",
    )


def _identity(person: Person, source: str, address: str = "", postcode: str = "") -> Any:
    return SourceIdentity.objects.for_system("test").create(
        source=source,
        source_id=f"{source}-{next(_ids)}",
        person=person,
        address=address,
        postcode=postcode,
        delivery_id=_delivery(source).pk,
        received_at=timezone.now(),
    )


def _fact(identity: Any, kind: str, display: str, began: datetime, ended: datetime | None) -> Fact:
    return Fact.objects.create(
        identity=identity,
        source=identity.source,
        record_id=f"R{next(_ids)}",
        kind=kind,
        occurred_at=began,
        ended_at=ended,
        display=display,
        delivery_id=identity.delivery_id,
        received_at=timezone.now(),
    )


def _inpatient(person: Person, hub: Team, address: str = "", postcode: str = "") -> Stay:
    admitted = timezone.now() - timedelta(days=10)
    hospital = _identity(person, "hospital", address, postcode)
    admission = _fact(hospital, FactKind.ADMISSION, "Acute medicine", admitted, None)
    stay = Stay.objects.create(
        spell_id=f"SP{next(_ids)}",
        person=person,
        fact_id=admission.pk,
        ward_code="W1",
        ward_name="Acute medicine",
        admitted_at=admitted,
    )
    services._hub_access_start([stay], [hub])
    return stay


def _package(person: Person, service: str, began_days_ago: int, ended_days_ago: int | None) -> None:
    now = timezone.now()
    _fact(
        _identity(person, "socialcare_adults"),
        FactKind.PACKAGE,
        service,
        now - timedelta(days=began_days_ago),
        None if ended_days_ago is None else now - timedelta(days=ended_days_ago),
    )


def test_flags_refresh_marks_a_running_home_care_package_paused_then_lapsed(
    make_person: Callable[..., Person], hub: Team
) -> None:
    person = make_person()
    stay = _inpatient(person, hub)
    _package(person, "Home care", 200, None)

    assert services.flags_refresh() == 1
    stay.refresh_from_db()
    assert (stay.package_status, stay.flags_source) == ("paused", FlagSource.RECORD)
    assert services.flags_refresh() == 0  # nothing new: nothing written

    Fact.objects.for_system("test").filter(kind=FactKind.PACKAGE).update(
        ended_at=timezone.now() - timedelta(days=3)
    )
    assert services.flags_refresh() == 1
    stay.refresh_from_db()
    assert stay.package_status == "lapsed"


def test_flags_refresh_finds_care_home_residents_by_address_and_by_placement(
    make_person: Callable[..., Person], hub: Team
) -> None:
    CareHome.objects.create(
        code="VZ001",
        name="Parkside Grange",
        kind=CareHomeKind.RESIDENTIAL,
        beds=40,
        postcode="SK1 0EB",
        latitude=53.41,
        longitude=-2.16,
    )
    at_home = _inpatient(make_person(), hub, "Parkside Grange", "SK10EB")
    placed = make_person()
    funded = _inpatient(placed, hub, "5 Tame Walk", "SK5 0FT")
    _package(placed, "Nursing care placement", 400, None)
    neighbour = _inpatient(make_person(), hub, "3 Parkside Road", "SK1 0EB")

    services.flags_refresh()

    flagged = {s.pk: s.care_home_resident for s in Stay.objects.for_system("test")}
    assert flagged == {at_home.pk: True, funded.pk: True, neighbour.pk: False}


def test_flags_the_board_recorded_are_never_overwritten(
    make_person: Callable[..., Person], hub: Team, coordinator: User
) -> None:
    person = make_person()
    stay = _inpatient(person, hub)
    _package(person, "Home care", 200, None)
    services.flags_refresh()
    opened = services.stay_open(user=coordinator, stay_id=stay.pk)

    services.progress_update(
        user=coordinator,
        stay=opened,
        dates={},
        provider="",
        care_home_resident=False,
        package_status="active",
    )
    services.flags_refresh()

    stay.refresh_from_db()
    assert (stay.package_status, stay.flags_source) == ("active", FlagSource.BOARD)


def test_flags_are_derived_for_inpatients_only(
    make_person: Callable[..., Person], hub: Team
) -> None:
    person = make_person()
    stay = _inpatient(person, hub)
    Stay.objects.for_system("test").filter(pk=stay.pk).update(
        discharged_on=timezone.localdate() - timedelta(days=1)
    )
    _package(person, "Home care", 200, None)

    assert services.flags_refresh() == 0
