"""Reads: the baseline's arrays and tables, the staff list, teams, imports.

Person-level staff rows are read only here and only for a user whose role carries
``Permission.VIEW_WORKFORCE`` (``staff_page`` checks it); every other reader gets the
aggregates that ``baseline_tables`` builds, suppressed by ``presenters``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, QuerySet

from joinedup.core.models import Neighbourhood, Organisation, Team, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied
from joinedup.workforce import baseline as kernel
from joinedup.workforce.baseline import age_band_lower
from joinedup.workforce.models import (
    SUBSTANTIVE,
    Establishment,
    ImportBatch,
    Role,
    StaffGroup,
    StaffRecord,
)

NOT_KNOWN = "Not known"
DIMENSIONS = {
    "organisation": "Organisation",
    "staff_group": "Staff group",
    "role": "Role",
    "neighbourhood": "Neighbourhood",
}


def sees_people(user: User) -> bool:
    """Workforce leads and administrators see person-level staff data and exact counts."""
    return user.has_role_permission(Permission.VIEW_WORKFORCE)


@dataclass(frozen=True)
class BaselineData:
    """The staff and establishment as arrays, with the keys each dimension needs."""

    staff: kernel.Staff
    funded: kernel.Floats
    staff_keys: dict[str, np.ndarray]  # dimension -> per staff record id (0 = not known)
    line_keys: dict[str, np.ndarray]  # dimension -> per line id, or -1 to apportion
    names: dict[str, dict[int, str]]  # dimension -> id -> label

    @property
    def empty(self) -> bool:
        return self.staff.wte.size == 0 and self.funded.size == 0


def _dates(values: list[date | None]) -> np.ndarray:
    return np.array([v if v else "NaT" for v in values], dtype="datetime64[D]")


def baseline_data() -> BaselineData:
    rows = list(
        StaffRecord.objects.values_list(
            "organisation_id",
            "organisation__kind",
            "team_id",
            "neighbourhood_id",
            "staff_group_id",
            "role_id",
            "wte",
            "contract",
            "start_date",
            "leaving_date",
            "age_band",
        )
    )
    lines = list(
        Establishment.objects.values_list(
            "organisation_id",
            "pooled_kind",
            "team_id",
            "team__neighbourhood_id",
            "staff_group_id",
            "role_id",
            "funded_wte",
        )
    )
    index = _line_index(lines)
    staff_line = np.array([_match(index, r[:3], r[4], r[5]) for r in rows], dtype=np.int64)
    older = {b: (age_band_lower(b) or 0) >= 55 for b in {r[10] for r in rows}}
    staff = kernel.Staff(
        wte=np.array([float(r[6]) for r in rows], dtype=np.float64),
        substantive=np.array([r[7] in SUBSTANTIVE for r in rows], dtype=np.bool_),
        start=_dates([r[8] for r in rows]),
        leave=_dates([r[9] for r in rows]),
        aged_55_plus=np.array([older[r[10]] for r in rows], dtype=np.bool_),
        line=staff_line.reshape(-1),
    )
    return BaselineData(
        staff=staff,
        funded=np.array([float(line[6]) for line in lines], dtype=np.float64),
        staff_keys={
            "organisation": np.array([r[0] for r in rows], dtype=np.int64),
            "staff_group": np.array([r[4] for r in rows], dtype=np.int64),
            "role": np.array([r[5] for r in rows], dtype=np.int64),
            "neighbourhood": np.array([r[3] or 0 for r in rows], dtype=np.int64),
        },
        line_keys={
            "organisation": np.array([line[0] or -1 for line in lines], dtype=np.int64),
            "staff_group": np.array([line[4] for line in lines], dtype=np.int64),
            "role": np.array([line[5] or -1 for line in lines], dtype=np.int64),
            "neighbourhood": np.array([line[3] or -1 for line in lines], dtype=np.int64),
        },
        names=_names(),
    )


LineKey = tuple[object, object, int, object]


def _line_index(lines: Sequence[tuple[object, ...]]) -> dict[LineKey, int]:
    index: dict[LineKey, int] = {}
    for i, (org, pool, team, _hood, group, role, _funded) in enumerate(lines):
        index[(org or f"pool:{pool}", team, int(group), role)] = i  # type: ignore[call-overload]
    return index


def _match(index: dict[LineKey, int], where: tuple[object, ...], group: int, role: int) -> int:
    """The most specific establishment line a post is funded under, or -1."""
    org, kind, team = where
    for owner in (org, f"pool:{kind}"):
        for key in ((owner, team, group, role), (owner, team, group, None)):
            if team is not None and key in index:
                return index[key]
        for key in ((owner, None, group, role), (owner, None, group, None)):
            if key in index:
                return index[key]
    return -1


def _names() -> dict[str, dict[int, str]]:
    groups = {g.pk: f"{g.get_sector_display()}: {g.name}" for g in StaffGroup.objects.all()}
    return {
        "organisation": dict(Organisation.objects.values_list("pk", "name")),
        "staff_group": groups,
        "role": {
            pk: f"{name} ({groups.get(group, '')})"
            for pk, name, group in Role.objects.values_list("pk", "name", "staff_group_id")
        },
        "neighbourhood": dict(Neighbourhood.objects.values_list("pk", "name")),
    }


def dimension(data: BaselineData, key: str) -> kernel.Dimension:
    """Rows for one of ``DIMENSIONS``; ids become row indices, 'Not known' last."""
    return _dimension(data.staff_keys[key], data.line_keys[key], data.names[key])


def _dimension(
    staff_ids: np.ndarray, line_ids: np.ndarray, names: dict[int, str]
) -> kernel.Dimension:
    used = sorted(
        {int(i) for i in staff_ids if i > 0} | {int(i) for i in line_ids if i > 0},
        key=lambda i: names.get(i, str(i)).lower(),
    )
    position = {pk: n for n, pk in enumerate(used)}
    unknown = len(used)
    return kernel.Dimension(
        labels=(*[names.get(i, str(i)) for i in used], NOT_KNOWN),
        staff_code=np.array([position.get(int(i), unknown) for i in staff_ids], dtype=np.int64),
        line_code=np.array([position.get(int(i), -1) for i in line_ids], dtype=np.int64),
        unknown=unknown,
    )


def grid_dimension(data: BaselineData) -> tuple[kernel.Dimension, int, int]:
    """Neighbourhood x staff group as one dimension: (dimension, rows, columns)."""
    hood = dimension(data, "neighbourhood")
    group = dimension(data, "staff_group")
    columns = len(group.labels)
    labels = tuple(f"{h}|{g}" for h in hood.labels for g in group.labels)
    fixed = (hood.line_code >= 0) & (group.line_code >= 0)
    return (
        kernel.Dimension(
            labels=labels,
            staff_code=hood.staff_code * columns + group.staff_code,
            line_code=np.where(fixed, hood.line_code * columns + group.line_code, -1),
            unknown=hood.unknown * columns + np.maximum(group.line_code, 0),
        ),
        len(hood.labels),
        columns,
    )


def latest_data_date() -> date | None:
    """The latest start or leaving date the staff records hold: how recent the data is."""
    found = StaffRecord.objects.aggregate(start=Max("start_date"), left=Max("leaving_date"))
    dates = [d for d in (found["start"], found["left"]) if d is not None]
    return max(dates) if dates else None


def period_ending(as_at: date) -> kernel.Period:
    try:
        start = as_at.replace(year=as_at.year - 1)
    except ValueError:  # 29 February
        start = as_at.replace(year=as_at.year - 1, day=28)
    return kernel.Period(np.datetime64(start, "D"), np.datetime64(as_at, "D"))


def staff_page(*, user: User, page: int, filters: dict[str, str]) -> Page:  # type: ignore[type-arg]
    """Person-level staff rows, for workforce leads and administrators only."""
    if not sees_people(user):
        raise AccessDenied("only workforce leads and administrators see staff records")
    rows: QuerySet[StaffRecord] = StaffRecord.objects.select_related(
        "organisation", "team", "neighbourhood", "staff_group", "role"
    ).order_by("organisation__name", "staff_ref")
    for name, lookup in (
        ("organisation", "organisation_id"),
        ("staff_group", "staff_group_id"),
        ("neighbourhood", "neighbourhood_id"),
    ):
        value = filters.get(name, "")
        if value.isdigit():
            rows = rows.filter(**{lookup: int(value)})
    if filters.get("in_post") == "yes":
        rows = rows.filter(leaving_date__isnull=True)
    return Paginator(rows, 50).get_page(page)


def staff_all(*, user: User) -> QuerySet[StaffRecord]:
    if not sees_people(user):
        raise AccessDenied("only workforce leads and administrators see staff records")
    return StaffRecord.objects.select_related(
        "organisation", "team", "neighbourhood", "staff_group", "role"
    ).order_by("organisation__name", "staff_ref")


def teams_directory() -> list[Team]:
    """Every team of every partner, with how to reach it."""
    return list(
        Team.objects.select_related("organisation", "neighbourhood", "contact").order_by(
            "neighbourhood__name", "name"
        )
    )


def team_headcounts(as_at: date) -> dict[int, int]:
    rows = (
        StaffRecord.objects.filter(
            team__isnull=False, start_date__lte=as_at, contract__in=SUBSTANTIVE
        )
        .exclude(leaving_date__lte=as_at)
        .values("team_id")
        .annotate(n=Count("id"))
    )
    return {r["team_id"]: r["n"] for r in rows}


def imports_recent(limit: int = 50) -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("imported_by")[:limit])


def import_problems(batch_id: int) -> tuple[ImportBatch, list[tuple[int, str, list[str]]]]:
    """One import and its kept-back rows, each with every reason."""
    from joinedup.errors import NotFound

    batch = ImportBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("there is no such import")
    grouped: dict[int, tuple[str, list[str]]] = {}
    for p in batch.problems.all():
        _raw, reasons = grouped.setdefault(p.line, (p.raw, []))
        label = p.field.replace("_", " ")
        reasons.append(f"{label} {p.message}".strip() + (f" ({p.value!r})" if p.value else ""))
    return batch, [(line, raw, reasons) for line, (raw, reasons) in sorted(grouped.items())]


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    names = _names()
    used: Callable[[str], set[int]] = lambda f: set(  # noqa: E731
        StaffRecord.objects.values_list(f, flat=True).distinct()
    )
    return {
        key: sorted(
            ((pk, names[key][pk]) for pk in used(f"{key}_id") if pk in names[key]),
            key=lambda x: x[1],
        )
        for key in ("organisation", "staff_group", "neighbourhood")
    }
