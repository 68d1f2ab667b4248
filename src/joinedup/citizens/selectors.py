"""Reads of the register: the pool's make-up against the population, search, exports.

Every read goes through ``Volunteer.objects.visible_to(user)``, so a user whose role
does not manage the register gets nobody. Aggregates (make-up, counts) name no one.
Reads that return volunteers' details write an audit event (``volunteer_search`` and
``volunteers_export`` do it themselves).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from joinedup.citizens.models import (
    AGE_BANDS,
    Ethnicity,
    Lsoa,
    PopulationCount,
    RegisterTally,
    Sex,
    Volunteer,
    VolunteerSource,
    YesNo,
)
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Neighbourhood, User

# Features a panel can set quotas on: column name -> how a person reads it.
FEATURES = {
    "age_band": "Age band",
    "sex": "Sex",
    "ethnic_group": "Ethnic group",
    "imd_quintile": "Deprivation quintile (1 = most deprived)",
    "disability": "Disability",
    "carer": "Carer",
    "tenure": "Housing tenure",
    "gender_same_as_sex": "Gender same as sex",
    "neighbourhood": "Neighbourhood",
}
# Gaps are flagged when the pool's share is below this fraction of the population's.
UNDER = 0.8


@dataclass(frozen=True)
class Share:
    value: str
    label: str
    pool: int
    pool_share: float
    population_share: float | None

    @property
    def gap(self) -> float | None:
        """Pool share minus population share, in percentage points."""
        if self.population_share is None:
            return None
        return 100 * (self.pool_share - self.population_share)

    @property
    def under(self) -> bool:
        return self.population_share is not None and self.pool_share < UNDER * self.population_share


@dataclass(frozen=True)
class Makeup:
    feature: str
    label: str
    shares: tuple[Share, ...]


def volunteers(*, user: User, neighbourhood: Neighbourhood | None = None) -> QuerySet[Volunteer]:
    """Volunteers who can be drawn: confirmed online sign-ups and imported registrations."""
    found = Volunteer.objects.visible_to(user).filter(
        Q(confirmed_at__isnull=False) | Q(source=VolunteerSource.IMPORT)
    )
    return found.filter(neighbourhood=neighbourhood) if neighbourhood else found


def _population(neighbourhood: Neighbourhood | None) -> dict[str, dict[str, float]]:
    cells = PopulationCount.objects.all()
    if neighbourhood is not None:
        cells = cells.filter(lsoa__neighbourhood=neighbourhood)
    out: dict[str, dict[str, float]] = {
        "age_band": {},
        "sex": {},
        "imd_quintile": {},
        "neighbourhood": {},
    }
    deciles = dict(Lsoa.objects.values_list("code", "imd_decile"))
    hoods = dict(Lsoa.objects.values_list("code", "neighbourhood__name"))
    for lsoa, sex, band, total in cells.values_list("lsoa_id", "sex", "age_band").annotate(
        n=Sum("count")
    ):
        for feature, value in (
            ("age_band", band),
            ("sex", sex),
            ("imd_quintile", str((deciles[lsoa] + 1) // 2)),
            ("neighbourhood", hoods[lsoa]),
        ):
            out[feature][value] = out[feature].get(value, 0.0) + total
    return out


_LABELS: dict[str, dict[str, str]] = {
    "sex": dict(Sex.choices),
    "ethnic_group": {k: k for k in Ethnicity.values},
    "disability": dict(YesNo.choices),
}
_ORDER: dict[str, Sequence[str]] = {
    "age_band": AGE_BANDS,
    "sex": Sex.values,
    "ethnic_group": Ethnicity.values,
    "imd_quintile": ("1", "2", "3", "4", "5"),
    "disability": YesNo.values,
}


def makeup(*, user: User, neighbourhood: Neighbourhood | None = None) -> list[Makeup]:
    """The pool's make-up by age, sex, deprivation, neighbourhood, ethnicity and disability,
    beside the adult population's where the borough's estimates give it."""
    rows = list(
        volunteers(user=user, neighbourhood=neighbourhood).values_list(
            "age_band", "sex", "imd_quintile", "neighbourhood__name", "ethnic_group", "disability"
        )
    )
    population = _population(neighbourhood)
    columns = ("age_band", "sex", "imd_quintile", "neighbourhood", "ethnic_group", "disability")
    out = []
    for i, feature in enumerate(columns):
        if feature == "neighbourhood" and neighbourhood is not None:
            continue
        counts = Counter("" if r[i] is None else str(r[i]) for r in rows)
        pop = population.get(feature)
        pop_total = sum(pop.values()) if pop else 0.0
        values = list(_ORDER.get(feature, sorted(set(counts) | set(pop or {}))))
        values += sorted(v for v in counts if v not in values)
        out.append(
            Makeup(
                feature,
                FEATURES[feature],
                tuple(
                    Share(
                        v or "Not known",
                        _LABELS.get(feature, {}).get(v, v or "Not known"),
                        counts.get(v, 0),
                        counts.get(v, 0) / len(rows) if rows else 0.0,
                        (pop.get(v, 0.0) / pop_total) if pop and pop_total else None,
                    )
                    for v in values
                    if counts.get(v, 0) or (pop and v in pop)
                ),
            )
        )
    return out


def volunteer_search(*, user: User, query: str, limit: int = 100) -> list[Volunteer]:
    """Volunteers whose name, email, postcode or reference matches (audited)."""
    words = query.split()
    found = Volunteer.objects.visible_to(user).select_related("neighbourhood")
    for word in words:
        found = found.filter(
            Q(given_name__icontains=word)
            | Q(family_name__icontains=word)
            | Q(email__icontains=word)
            | Q(postcode__icontains=word)
            | Q(ref__iexact=word)
            | Q(external_id__iexact=word)
        )
    result = list(found[:limit]) if words else []
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="citizens.volunteers",
        reason=f"{len(result)} volunteers listed",
    )
    return result


def register_counts(*, user: User) -> dict[str, int]:
    """Anonymous totals: on the register, awaiting confirmation, erased so far."""
    erased = RegisterTally.objects.filter(kind="erased").aggregate(n=Sum("count"))["n"] or 0
    waiting = Volunteer.objects.visible_to(user).filter(
        confirmed_at=None, source=VolunteerSource.WEB
    )
    return {
        "available": volunteers(user=user).count(),
        "unconfirmed": waiting.count(),
        "erased": erased,
    }


EXPORT_COLUMNS = (
    "ref", "external_id", "given_name", "family_name", "email", "phone", "address_line_1",
    "address_line_2", "town", "postcode", "age_band", "sex", "gender_same_as_sex",
    "ethnic_group", "disability", "carer", "tenure", "neighbourhood", "imd_quintile",
    "interests", "contact_preference", "joined", "confirmed",
)  # fmt: skip


def volunteers_export(*, user: User, extension: str) -> list[list[str | int | None]]:
    """Every volunteer who can be drawn, with their details, as rows of
    ``EXPORT_COLUMNS`` (audited)."""
    people = volunteers(user=user).select_related("neighbourhood").order_by("ref")
    rows = export_rows(people)
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        resource="citizens.volunteers",
        reason=f"{len(rows)} volunteers exported as {extension}",
    )
    return rows


def export_rows(people: Iterable[Volunteer]) -> list[list[str | int | None]]:
    return [
        [
            v.ref,
            v.external_id,
            v.given_name,
            v.family_name,
            v.email,
            v.phone,
            v.address_line_1,
            v.address_line_2,
            v.town,
            v.postcode,
            v.age_band,
            v.sex,
            v.gender_same_as_sex,
            v.ethnic_group,
            v.disability,
            v.carer,
            v.tenure,
            v.neighbourhood.name if v.neighbourhood else "",
            v.imd_quintile,
            "; ".join(v.interests),
            v.contact_preference,
            v.joined.isoformat(),
            "yes" if v.confirmed_at or v.source == "import" else "no",
        ]
        for v in people
    ]
