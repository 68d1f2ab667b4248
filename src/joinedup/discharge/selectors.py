"""Reads of the discharge tracker: the board (scoped to the user), the metrics and the
planner's inputs (aggregates, read for a named system purpose, never shown per person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db.models import Prefetch
from django.utils import timezone

from joinedup.discharge import metrics
from joinedup.discharge.models import (
    CommunityReferral,
    DelayReason,
    PlannerScenario,
    ReadyEpisode,
    Stay,
)
from joinedup.errors import NotFound

if TYPE_CHECKING:
    from joinedup.core.models import User

METRICS = "discharge-metrics"


# --- the board --------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    stay: Stay
    ready_on: date | None
    days_waiting: int | None
    reason: DelayReason | None  # the open blocking reason, latest first
    referral: CommunityReferral | None


def board(*, user: User, ward: str = "", today: date | None = None) -> list[BoardRow]:
    """Inpatients the user may see, ready ones first, longest waiting first."""
    today = today or timezone.localdate()
    stays = (
        Stay.objects.visible_to(user)
        .filter(discharged_on__isnull=True)
        .select_related("person")
        .prefetch_related(
            Prefetch("episodes", queryset=ReadyEpisode.objects.filter(ended_on__isnull=True)),
            Prefetch("delay_reasons", queryset=DelayReason.objects.filter(ended_on__isnull=True)),
            "community_referrals",
        )
    )
    if ward:
        stays = stays.filter(ward_code=ward)
    rows = [_row(stay, today) for stay in stays]
    return sorted(rows, key=lambda r: (r.days_waiting is None, -(r.days_waiting or 0), r.stay.id))


def _row(stay: Stay, today: date) -> BoardRow:
    episodes = sorted(stay.episodes.all(), key=lambda e: (e.ready_on, e.id))
    ready = episodes[-1].ready_on if episodes else None
    reasons = sorted(stay.delay_reasons.all(), key=lambda r: (r.started_on, r.id))
    referrals = [r for r in stay.community_referrals.all() if r.ready_on == ready]
    return BoardRow(
        stay=stay,
        ready_on=ready,
        days_waiting=(today - ready).days if ready is not None else None,
        reason=reasons[-1] if reasons else None,
        referral=referrals[-1] if referrals else None,
    )


def wards_with_inpatients(*, user: User) -> list[tuple[str, str]]:
    """(code, name) of the wards where the user can see an inpatient."""
    rows = (
        Stay.objects.visible_to(user)
        .filter(discharged_on__isnull=True)
        .values_list("ward_code", "ward_name")
        .distinct()
    )
    return sorted(set(rows))


def stay_history(stay: Stay) -> dict[str, Any]:
    """An opened stay's DRDs, pathway changes, delay reasons and referrals."""
    return {
        "episodes": list(stay.episodes.order_by("ready_on", "id")),
        "pathways": list(stay.pathway_changes.order_by("changed_on", "id")),
        "reasons": list(stay.delay_reasons.order_by("started_on", "id")),
        "referrals": list(stay.community_referrals.order_by("created_at", "id")),
    }


def criteria_days(
    stay: Stay, *, days: int = 14, today: date | None = None
) -> list[tuple[date, bool]]:
    """The last ``days`` days of an opened stay: (day, meets the criteria to reside)."""
    today = today or timezone.localdate()
    end = min(today, stay.discharged_on or today)
    first = max(stay.admitted_at.date(), end - timedelta(days=days - 1))
    spans = [(e.ready_on, e.ended_on) for e in stay.episodes.all()]
    out = []
    day = first
    while day <= end:
        ready = any(s <= day and (e is None or day < e) for s, e in spans)
        out.append((day, not ready))
        day += timedelta(days=1)
    return out


# --- metrics (aggregates) ----------------------------------------------------------------


@dataclass(frozen=True)
class Discharges:
    """Every discharge with a DRD, as arrays (no person): the metrics' input."""

    discharged: np.ndarray[Any, Any]
    ready: np.ndarray[Any, Any]
    pathway: np.ndarray[Any, Any]
    ward: np.ndarray[Any, Any]

    @property
    def delay(self) -> np.ndarray[Any, Any]:
        return metrics.delays(self.discharged, self.ready)


def discharges(*, since: date | None = None, until: date | None = None) -> Discharges:
    """Discharges whose open episode gives the DRD the delay counts from."""
    stays = Stay.objects.for_system(METRICS).filter(discharged_on__isnull=False, died=False)
    if since is not None:
        stays = stays.filter(discharged_on__gte=since)
    if until is not None:
        stays = stays.filter(discharged_on__lte=until)
    episodes = ReadyEpisode.objects.filter(
        stay__in=stays.values("id"), ended_on__isnull=True
    ).values_list("stay_id", "ready_on")
    ready = dict(episodes)
    rows = [
        (d, ready[i], p if p is not None else -1, w)
        for i, d, p, w in stays.values_list("id", "discharged_on", "pathway", "ward_code")
        if d is not None and i in ready and ready[i] <= d
    ]
    if not rows:
        empty = np.array([], dtype="datetime64[D]")
        return Discharges(empty, empty, np.array([], dtype=np.int64), np.array([], dtype=str))
    d, r, p, w = zip(*rows, strict=True)
    return Discharges(
        np.array(d, dtype="datetime64[D]"),
        np.array(r, dtype="datetime64[D]"),
        np.array(p, dtype=np.int64),
        np.array(w, dtype=str),
    )


def episodes_spans(
    *, since: date | None = None
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Start and end (discharge, or meeting the criteria again; NaT if open) of every time
    a living patient did not meet the criteria to reside: the census's input."""
    rows = ReadyEpisode.objects.filter(stay__died=False).values_list(
        "ready_on", "ended_on", "stay__discharged_on"
    )
    if since is not None:
        rows = rows.exclude(stay__discharged_on__lt=since)
    starts, ends = [], []
    for ready, ended, discharged in rows:
        end = ended or discharged
        if end is not None and end < ready:
            continue
        starts.append(ready)
        ends.append(end)
    return (
        np.array(starts, dtype="datetime64[D]"),
        np.array([np.datetime64("NaT") if e is None else e for e in ends], dtype="datetime64[D]"),
    )


def ward_names() -> dict[str, str]:
    return dict(Stay.objects.for_system(METRICS).values_list("ward_code", "ward_name").distinct())


def data_span() -> tuple[date, date] | None:
    """First and last discharge date in the tracker."""
    stays = Stay.objects.for_system(METRICS).filter(discharged_on__isnull=False)
    first = stays.order_by("discharged_on").values_list("discharged_on", flat=True).first()
    last = stays.order_by("-discharged_on").values_list("discharged_on", flat=True).first()
    return (first, last) if first and last else None


def mean_delay_days(*, days: int = 28, today: date | None = None) -> tuple[float, date, int] | None:
    """The average delay (excluding zero-day delays) of the last ``days`` days of
    discharges in the tracker: the portfolio's live measure."""
    span = data_span()
    if span is None:
        return None
    end = min(today or timezone.localdate(), span[1])
    data = discharges(since=end - timedelta(days=days - 1), until=end)
    summary = metrics.summarise(data.delay)[0]
    value = summary.mean_delay_excluding_zero
    return None if value is None else (value, end, summary.discharges)


# --- the planner's inputs (aggregates) ----------------------------------------------------


def ready_counts_by_pathway(*, first: date, last: date) -> dict[int, list[int]]:
    """Patients becoming ready a day on each pathway 1-3 over first..last (their DRDs)."""
    span = (last - first).days + 1
    out = {k: [0] * span for k in (1, 2, 3)}
    rows = ReadyEpisode.objects.filter(
        ready_on__gte=first, ready_on__lte=last, stay__pathway__in=(1, 2, 3)
    ).values_list("ready_on", "stay__pathway")
    for day, pathway in rows:
        out[int(pathway or 0)][(day - first).days] += 1
    return out


def waiting_now(*, today: date) -> dict[int, list[float]]:
    """Days waited so far by each inpatient ready now, per pathway 1-3 (the census)."""
    out: dict[int, list[float]] = {1: [], 2: [], 3: []}
    rows = ReadyEpisode.objects.filter(
        ended_on__isnull=True,
        stay__discharged_on__isnull=True,
        stay__pathway__in=(1, 2, 3),
        ready_on__lte=today,
    ).values_list("ready_on", "stay__pathway")
    for ready, pathway in rows:
        out[int(pathway or 0)].append(float((today - ready).days))
    return out


def scenarios() -> list[PlannerScenario]:
    return list(PlannerScenario.objects.order_by("name"))


def scenario(scenario_id: int) -> PlannerScenario:
    found = PlannerScenario.objects.filter(id=scenario_id).first()
    if found is None:
        raise NotFound("there is no saved scenario with this number")
    return found
