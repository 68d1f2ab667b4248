"""Reads for the portfolio pages: programmes with milestones, decisions, risks, benefits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch

from joinedup.core.models import Organisation
from joinedup.errors import NotFound
from joinedup.portfolio.measures import Reading, measure_current
from joinedup.portfolio.models import (
    Benefit,
    Decision,
    Milestone,
    Programme,
    Risk,
)
from joinedup.portfolio.timeline import Lane, Mark


def programmes() -> list[Programme]:
    return list(
        Programme.objects.select_related("lead_organisation").prefetch_related(
            Prefetch("milestones", queryset=Milestone.objects.prefetch_related("depends_on")),
            "projects",
        )
    )


def programme(code: str) -> Programme:
    found = next((p for p in programmes() if p.code == code), None)
    if found is None:
        raise NotFound("there is no such programme")
    return found


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
    from django.utils import timezone

    return timezone.localdate()
