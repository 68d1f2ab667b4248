"""Demonstration data: the synthetic borough's portfolio (``portfolio/*.csv``).

Programmes, milestones, decisions, risks and benefits as the borough wrote them; the
borough gives no owners, rationales or attendance, so those show as not recorded. Each
milestone is linked to the previous step of its programme (the borough's milestones are
the steps of one sequence). Running it again adds nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

from django.db import transaction

from joinedup.core.models import Organisation
from joinedup.portfolio.models import (
    Benefit,
    Decision,
    Milestone,
    MilestoneStatus,
    Programme,
    Rag,
    Risk,
)

STATUS = {
    "Complete": (MilestoneStatus.COMPLETE, Rag.COMPLETE),
    "Late": (MilestoneStatus.LATE, Rag.RED),
    "At risk": (MilestoneStatus.AT_RISK, Rag.AMBER),
    "On track": (MilestoneStatus.ON_TRACK, Rag.GREEN),
}


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text.strip() else None


def _programmes(folder: Path, orgs: dict[str, Organisation]) -> dict[str, Programme]:
    out = {}
    for row in _rows(folder / "programmes.csv"):
        out[row["programme_id"]], _ = Programme.objects.get_or_create(
            code=row["programme_id"],
            defaults={
                "name": row["name"],
                "aim": row["aim"],
                "lead_organisation": orgs[row["lead_organisation"]],
                "start_date": _day(row["start_date"]),
                "end_date": _day(row["end_date"]),
                "budget_gbp": int(row["budget_gbp"]) if row["budget_gbp"] else None,
                "status": row["status"],
            },
        )
    return out


def _milestones(folder: Path, programmes: dict[str, Programme]) -> None:
    previous: dict[str, Milestone] = {}
    for row in _rows(folder / "milestones.csv"):
        status, rag = STATUS[row["status"]]
        completed = _day(row["completed_date"])
        milestone, made = Milestone.objects.get_or_create(
            code=row["milestone_id"],
            defaults={
                "programme": programmes[row["programme_id"]],
                "title": row["title"],
                "planned_date": _day(row["due_date"]),
                "forecast_date": completed or _day(row["due_date"]),
                "completed_date": completed,
                "status": status,
                "rag": rag,
            },
        )
        before = previous.get(row["programme_id"])
        if made and before is not None:
            milestone.depends_on.add(before)
        previous[row["programme_id"]] = milestone


def _decisions(
    folder: Path, programmes: dict[str, Programme], orgs: dict[str, Organisation]
) -> None:
    for row in _rows(folder / "decisions.csv"):
        Decision.objects.get_or_create(
            code=row["decision_id"],
            defaults={
                "decided_on": _day(row["board_date"]),
                "programme": programmes[row["programme_id"]],
                "decision": f"{row['decision']}: {programmes[row['programme_id']].name}",
                "accountable_organisation": orgs[row["accountable_organisation"]],
            },
        )


def _risks(folder: Path, programmes: dict[str, Programme], orgs: dict[str, Organisation]) -> None:
    for row in _rows(folder / "risks.csv"):
        Risk.objects.get_or_create(
            code=row["risk_id"],
            defaults={
                "programme": programmes[row["programme_id"]],
                "description": row["description"],
                "owner_organisation": orgs[row["owner_organisation"]],
                "likelihood_before": int(row["likelihood"]),
                "impact_before": int(row["impact"]),
                "status": row["status"],
            },
        )


def _benefits(folder: Path, programmes: dict[str, Programme]) -> None:
    for row in _rows(folder / "benefits.csv"):
        Benefit.objects.get_or_create(
            code=row["benefit_id"],
            defaults={
                "programme": programmes[row["programme_id"]],
                "measure_code": row["measure_code"],
                "baseline": float(row["baseline"]),
                "target": float(row["target"]),
                "target_date": _day(row["target_date"]),
            },
        )


@transaction.atomic
def demo_load(borough: Path, *, progress: Callable[[str, int, int], None]) -> None:
    folder = borough / "portfolio"
    orgs = {o.ods_code: o for o in Organisation.objects.all()}
    programmes = _programmes(folder, orgs)
    progress("portfolio programmes", 1, 5)
    _milestones(folder, programmes)
    progress("portfolio milestones", 2, 5)
    _decisions(folder, programmes, orgs)
    progress("portfolio decisions", 3, 5)
    _risks(folder, programmes, orgs)
    progress("portfolio risks", 4, 5)
    _benefits(folder, programmes)
    progress("portfolio benefits", 5, 5)
