"""The milestone RAG rules: how a milestone's status, dates and stored RAG must agree.

The RAG is stored, not derived, so every write is checked against these rules. They are
the ones the borough's portfolio already follows (see ``demo.STATUS``): on track is green,
at risk amber, late red, complete is complete; a milestone not started may be any of
green, amber or red. On top of that a forecast that has slipped past the baseline
(planned) date can no longer be green or on track, a complete milestone needs the date it
was completed, and that date cannot be in the future. Pure: no database.
"""

from __future__ import annotations

from datetime import date

from joinedup.portfolio.models import MilestoneStatus, Rag

ALLOWED_RAG: dict[str, frozenset[str]] = {
    MilestoneStatus.NOT_STARTED: frozenset({Rag.GREEN, Rag.AMBER, Rag.RED}),
    MilestoneStatus.ON_TRACK: frozenset({Rag.GREEN}),
    MilestoneStatus.AT_RISK: frozenset({Rag.AMBER}),
    MilestoneStatus.LATE: frozenset({Rag.RED}),
    MilestoneStatus.COMPLETE: frozenset({Rag.COMPLETE}),
}
_ORDER = [Rag.GREEN, Rag.AMBER, Rag.RED, Rag.COMPLETE]
DONE_BUT_NOT_COMPLETE = (
    "A milestone with an actual date is complete: choose Complete, or remove the actual date"
)
SLIPPED_BUT_ON_TRACK = (
    "The forecast date is after the baseline date, so the milestone is not on track: "
    "choose At risk or Late"
)


def _spoken(rags: frozenset[str]) -> str:
    names = [Rag(r).label.lower() for r in _ORDER if r in rags]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def slipped(*, planned: date, forecast: date | None, completed: date | None) -> bool:
    """Not yet complete, and now expected after the baseline date."""
    return completed is None and forecast is not None and forecast > planned


def milestone_problems(
    *,
    status: str,
    rag: str,
    planned: date | None,
    forecast: date | None,
    completed: date | None,
    today: date,
) -> list[tuple[str, str]]:
    """Each broken rule as (field, message); empty when status, dates and RAG agree.

    ``status`` and ``rag`` must already be valid choices; the date fields are named as the
    form names their day box (``completed_date-day``), so the error summary links to it.
    """
    problems: list[tuple[str, str]] = []
    if completed is not None and completed > today:
        problems.append(("completed_date-day", "The actual date cannot be in the future"))
    if status == MilestoneStatus.COMPLETE and completed is None:
        problems.append(
            ("completed_date-day", "Enter the actual date: a complete milestone needs it")
        )
    if completed is not None and status != MilestoneStatus.COMPLETE:
        problems.append(("status", DONE_BUT_NOT_COMPLETE))
    late = planned is not None and slipped(planned=planned, forecast=forecast, completed=completed)
    if late and status == MilestoneStatus.ON_TRACK:
        problems.append(("status", SLIPPED_BUT_ON_TRACK))
    allowed = ALLOWED_RAG[status]
    if late:
        allowed = allowed - {Rag.GREEN}
    if rag not in allowed and allowed:
        label = MilestoneStatus(status).label.lower()
        why = (
            "the forecast date is after the baseline date"
            if late and rag == Rag.GREEN
            else f"a milestone that is {label} is {_spoken(allowed)}"
        )
        problems.append(("rag", f"Choose {_spoken(allowed)}: {why}"))
    return problems
