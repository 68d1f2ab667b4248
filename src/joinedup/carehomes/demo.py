"""Demonstration data: the borough's care-home register, practice sites and alignment.

The synthetic borough's register has no aligned practice (nor does CQC's), so the demo
starts from the alignment a borough drifts into: each home with the practice most of its
residents are registered with (the nearest practice when it has none). The residents'
records are opened to their neighbourhood's team (a care-team relationship), as an
enhanced-health-in-care-homes team would have them. Running it again changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from joinedup.carehomes import alignment, selectors, services
from joinedup.carehomes.models import CareHome, PracticeSite
from joinedup.core.models import Team, TeamKind
from joinedup.core.reference import organisations_sync
from joinedup.people import services as people_services
from joinedup.people.models import CareRelationship, Person, RelationshipKind

SCOPE = "care-home demonstration"


def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:
    reference = borough / "reference"
    if not (reference / "care_homes.csv").exists():
        return
    if not PracticeSite.objects.exists():
        services.practice_sites_import(
            path=reference / "organisations.csv", lsoas=reference / "lsoas.csv"
        )
    if not CareHome.objects.exists():
        organisations_sync(reference / "care_homes.csv")  # the homes as organisations
        services.care_homes_import(path=reference / "care_homes.csv")
    progress("care-home register", 1, 3)
    _initial_alignment()
    progress("care-home alignment", 2, 3)
    _resident_relationships()
    progress("care-home residents", 3, 3)


def _residents() -> dict[int, list[Person]]:
    homes = list(CareHome.objects.all())
    by_postcode = selectors.homes_by_postcode(homes)
    out: dict[int, list[Person]] = {}
    people = Person.objects.for_system(SCOPE).filter(
        postcode__in=selectors.postcode_variants(homes), date_of_death__isnull=True
    )
    for person in people:
        home = selectors.home_for_address(person.address, person.postcode, by_postcode)
        if home is not None:
            out.setdefault(home.pk, []).append(person)
    return out


def _initial_alignment() -> None:
    homes = list(CareHome.objects.filter(aligned_practice__isnull=True))
    if not homes:
        return
    sites = list(PracticeSite.objects.select_related("practice").order_by("practice__ods_code"))
    if not sites:
        return
    residents = _residents()
    distances = alignment.distances_km(
        alignment.Sites.of(
            [h.code for h in homes],
            [h.latitude for h in homes],
            [h.longitude for h in homes],
            [float(h.beds) for h in homes],
        ),
        alignment.Sites.of(
            [s.practice.ods_code for s in sites],
            [s.latitude for s in sites],
            [s.longitude for s in sites],
            [float(s.list_size) for s in sites],
        ),
    )
    for i, home in enumerate(homes):
        practices = Counter(
            p.registered_practice_id for p in residents.get(home.pk, []) if p.registered_practice_id
        )
        if practices:
            practice_id = practices.most_common(1)[0][0]
            reason = "demonstration: the practice most residents are registered with"
        else:
            practice_id = sites[int(np.argmin(distances[i]))].practice_id
            reason = "demonstration: the nearest practice (no residents registered)"
        code = next((s.practice.ods_code for s in sites if s.practice_id == practice_id), "")
        if code:
            services.alignment_set(
                user=None, home_code=home.code, practice_code=code, reason=reason
            )


def _resident_relationships() -> None:
    teams = {
        t.neighbourhood_id: t
        for t in Team.objects.filter(kind=TeamKind.INT, neighbourhood__isnull=False)
    }
    homes = {h.pk: h for h in CareHome.objects.all()}
    related = set(
        CareRelationship.objects.filter(kind=RelationshipKind.CARE_TEAM).values_list(
            "person_id", "team_id"
        )
    )
    for home_id, people in _residents().items():
        team = teams.get(homes[home_id].neighbourhood_id)
        if team is None:
            continue
        for person in people:
            if (person.id, team.pk) not in related:
                people_services.relationship_start(
                    person=person, team=team, kind=RelationshipKind.CARE_TEAM
                )
