"""The board pack as tables: one per sheet of the XLSX download."""

from __future__ import annotations

from joinedup.portfolio import selectors
from joinedup.web.tables import Table


def board_tables() -> list[Table]:
    items = selectors.programmes()
    return [
        Table(
            "Programmes",
            (
                "Code",
                "Programme",
                "Aim",
                "Lead organisation",
                "Owner",
                "Start",
                "End",
                "Budget £",
                "Status",
            ),
            [
                (
                    p.code,
                    p.name,
                    p.aim,
                    p.lead_organisation.name,
                    p.owner,
                    p.start_date,
                    p.end_date,
                    p.budget_gbp,
                    p.status,
                )
                for p in items
            ],
        ),
        Table(
            "Milestones",
            (
                "Programme",
                "Milestone",
                "Planned",
                "Forecast",
                "Completed",
                "Status",
                "RAG",
                "Depends on",
            ),
            [
                (
                    p.name,
                    m.title,
                    m.planned_date,
                    m.forecast_date,
                    m.completed_date,
                    m.get_status_display(),
                    m.get_rag_display(),
                    "; ".join(d.title for d in m.depends_on.all()),
                )
                for p in items
                for m in p.milestones.all()
            ],
        ),
        Table(
            "Decisions",
            (
                "Code",
                "Date",
                "Programme",
                "Decision",
                "Rationale",
                "Accountable organisation",
                "Accountable person",
                "Present",
                "Actions",
            ),
            [
                (
                    d.code,
                    d.decided_on,
                    d.programme.name if d.programme else "",
                    d.decision,
                    d.rationale,
                    d.accountable_organisation.name,
                    d.accountable_person,
                    "; ".join(d.attendees),
                    "; ".join(
                        f"{a.action} ({a.owner or 'owner not named'}, {a.due_date or 'no date'})"
                        for a in d.actions.all()
                    ),
                )
                for d in selectors.decisions()
            ],
        ),
        Table(
            "Risks",
            (
                "Code",
                "Risk",
                "Owner organisation",
                "Likelihood before",
                "Impact before",
                "Score before",
                "Likelihood after",
                "Impact after",
                "Score after",
                "Status",
                "Mitigations",
            ),
            [
                (
                    r.code,
                    r.description,
                    r.owner_organisation.name,
                    r.likelihood_before,
                    r.impact_before,
                    r.score_before,
                    r.likelihood_after,
                    r.impact_after,
                    r.score_after,
                    r.status,
                    "; ".join(
                        f"{m.action} ({m.owner}, {m.due_date or 'no date'})"
                        for m in r.mitigations.all()
                    ),
                )
                for r in selectors.risks()
            ],
        ),
        Table(
            "Benefits",
            (
                "Code",
                "Programme",
                "Measure",
                "Unit",
                "Baseline",
                "Target",
                "Target date",
                "Current",
                "As of",
                "Progress %",
            ),
            [
                (
                    s.benefit.code,
                    s.benefit.programme.name,
                    s.label,
                    s.unit,
                    s.benefit.baseline,
                    s.benefit.target,
                    s.benefit.target_date,
                    s.current if s.current is not None else "not yet measured",
                    s.reading.value.as_of if s.reading.value else None,
                    round(s.progress, 1) if s.progress is not None else None,
                )
                for s in selectors.benefits()
            ],
        ),
    ]
