"""Reads for the portfolio pages: programmes with milestones, decisions, risks, benefits,
and each milestone's change history as the audit trail recorded it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone

from joinedup.core.models import AuditEvent, Organisation, User
from joinedup.errors import NotFound
from joinedup.portfolio.measures import Reading, measure_current
from joinedup.portfolio.models import (
    Benefit,
    Decision,
    Milestone,
    Programme,
    Project,
    Risk,
)
from joinedup.portfolio.timeline import Lane, Mark


def programmes() -> list[Programme]:
    return list(
        Programme.objects.select_related("lead_organisation").prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.select_related("project").prefetch_related("depends_on"),
            ),
            "projects",
        )
    )


def programme(code: str) -> Programme:
    found = next((p for p in programmes() if p.code == code), None)
    if found is None:
        raise NotFound("there is no such programme")
    return found


def project(item: Programme, code: str) -> Project:
    found = next((p for p in item.projects.all() if p.code == code), None)
    if found is None:
        raise NotFound("this programme has no such project")
    return found


def milestone(item: Programme, code: str) -> Milestone:
    found = next((m for m in item.milestones.all() if m.code == code), None)
    if found is None:
        raise NotFound("this programme has no such milestone")
    return found


@dataclass(frozen=True)
class Change:
    """One recorded change to a milestone: when, by whom, and what the audit event says."""

    at: datetime
    by: str
    what: str


MILESTONE_RESOURCE = "portfolio.milestone:"


def milestone_changes(codes: list[str]) -> dict[str, list[Change]]:
    """Each milestone's changes made on the web, newest first, read back from the audit
    trail (the model keeps no history of its own). Milestones never changed are absent."""
    events = list(
        # Filter on resource alone. Until AuditEvent.resource is indexed this scans the trail
        # (about 0.7 s at a million events); with the index it is a lookup of a few rows.
        # Adding person_id IS NULL would tempt SQLite into that far less selective index.
        AuditEvent.objects.filter(
            resource__in=[f"{MILESTONE_RESOURCE}{c}" for c in codes], outcome="allowed"
        ).order_by("-id")
    )
    names = {
        u.pk: u.get_full_name() or u.username
        for u in User.objects.filter(pk__in={e.actor_id for e in events if e.actor_id})
    }
    out: dict[str, list[Change]] = defaultdict(list)
    for e in events:
        who = names.get(e.actor_id, e.actor_username) if e.actor_id else e.actor_username
        out[e.resource.removeprefix(MILESTONE_RESOURCE)].append(
            Change(at=timezone.localtime(e.occurred_at), by=who, what=e.reason)
        )
    return dict(out)


def lanes(items: list[Programme]) -> list[Lane]:
    return [
        Lane(
            label=p.name,
            start=p.start_date,
            end=p.end_date,
            marks=[Mark(m.title, m.planned_date, m.expected, m.rag) for m in p.milestones.all()],
        )
        for p in items
    ]


def decisions() -> list[Decision]:
    return list(
        Decision.objects.select_related("programme", "accountable_organisation").prefetch_related(
            "actions"
        )
    )


def risks() -> list[Risk]:
    return list(
        Risk.objects.select_related("programme", "owner_organisation").prefetch_related(
            "mitigations__owner_organisation", "reviews__reviewed_by"
        )
    )


def risk(code: str) -> Risk:
    found = next((r for r in risks() if r.code == code), None)
    if found is None:
        raise NotFound("there is no such risk")
    return found


def organisations() -> list[Organisation]:
    return list(Organisation.objects.exclude(kind="care_home").order_by("name"))


@dataclass(frozen=True)
class BenefitStatus:
    benefit: Benefit
    reading: Reading

    @property
    def label(self) -> str:
        return (
            self.reading.measure.label
            if self.reading.measure
            else self.benefit.measure_code.replace("_", " ")
        )

    @property
    def unit(self) -> str:
        return self.reading.measure.unit if self.reading.measure else ""

    @property
    def current(self) -> float | None:
        return self.reading.value.value if self.reading.value else None

    @property
    def progress(self) -> float | None:
        """How far from baseline to target the current value has come, in percent."""
        b = self.benefit
        if self.current is None or b.target == b.baseline:
            return None
        return (self.current - b.baseline) / (b.target - b.baseline) * 100.0

    @property
    def on_course(self) -> str:
        p = self.progress
        if p is None:
            return ""
        return "Target met" if p >= 100 else ("Moving towards target" if p > 0 else "Not improving")


def benefits() -> list[BenefitStatus]:
    return [
        BenefitStatus(b, measure_current(b.measure_code))
        for b in Benefit.objects.select_related("programme")
    ]


def board_today() -> date:
    return timezone.localdate()
