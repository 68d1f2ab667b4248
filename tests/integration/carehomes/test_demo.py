"""The borough's care homes load through the importers, align, and load again unchanged."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from joinedup.carehomes import planner
from joinedup.carehomes.demo import demo_load
from joinedup.carehomes.models import AlignmentChange, CareHome, PracticeSite, RegisterImport
from joinedup.carehomes.selectors import care_home_residents
from joinedup.core.models import Neighbourhood, Organisation, Team, TeamKind
from joinedup.core.reference import organisations_sync
from joinedup.people.linking import link_run
from joinedup.people.models import CareRelationship, Person, RelationshipKind
from joinedup.record.ingest import ingest_folder

pytestmark = pytest.mark.django_db(transaction=True)


def _quiet(*_args: object) -> None:
    return None


def test_demo_load_builds_the_register_and_is_idempotent(borough: Path) -> None:
    organisations_sync(borough / "reference" / "organisations.csv")
    ingest_folder(borough, workers=1)
    link_run()
    provider = Organisation.objects.get(ods_code="RZ8")
    for hood in Neighbourhood.objects.all():
        Team.objects.create(
            name=f"{hood.name} INT", kind=TeamKind.INT, organisation=provider, neighbourhood=hood
        )
    with (borough / "reference" / "care_homes.csv").open() as handle:
        homes = list(csv.DictReader(handle))

    demo_load(borough, progress=_quiet)

    assert CareHome.objects.count() == len(homes)
    assert not CareHome.objects.filter(aligned_practice__isnull=True).exists()
    assert not CareHome.objects.filter(organisation__isnull=True).exists()
    assert PracticeSite.objects.exists()
    related = CareRelationship.objects.filter(kind=RelationshipKind.CARE_TEAM)
    assert related.exists()
    residents = care_home_residents(Person.objects.for_system("test").values_list("id", flat=True))
    assert len(residents) == related.count()
    assert set(residents.values()) <= {h["name"] for h in homes}
    before = (
        AlignmentChange.objects.count(),
        related.count(),
        RegisterImport.objects.count(),
    )

    demo_load(borough, progress=_quiet)

    after = (AlignmentChange.objects.count(), related.count(), RegisterImport.objects.count())
    assert after == before
    assert len(planner.compare().rows) == len(homes)
