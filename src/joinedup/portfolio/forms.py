"""The project and milestone forms: POST data into the inputs the services check, and a
saved record back into the values the form shows.

Nothing is validated here: the services check every field, so the web and any other
caller meet the same rules.
"""

from __future__ import annotations

from django.http import QueryDict

from joinedup.portfolio.models import Milestone, Project
from joinedup.portfolio.services import DateParts, MilestoneInput, ProjectInput

DATE_FIELDS = ("planned_date", "forecast_date", "completed_date")


def _date(post: QueryDict, name: str) -> DateParts:
    return DateParts(
        post.get(f"{name}-day", ""), post.get(f"{name}-month", ""), post.get(f"{name}-year", "")
    )


def project_input(post: QueryDict) -> ProjectInput:
    return ProjectInput(
        name=post.get("name", ""),
        owner=post.get("owner", ""),
        owner_organisation=post.get("owner_organisation", ""),
    )


def project_initial(project: Project | None) -> ProjectInput:
    if project is None:
        return ProjectInput()
    organisation = project.owner_organisation
    return ProjectInput(
        name=project.name,
        owner=project.owner,
        owner_organisation=organisation.ods_code if organisation is not None else "",
    )


def milestone_input(post: QueryDict) -> MilestoneInput:
    return MilestoneInput(
        title=post.get("title", ""),
        project=post.get("project", ""),
        owner=post.get("owner", ""),
        planned_date=_date(post, "planned_date"),
        forecast_date=_date(post, "forecast_date"),
        completed_date=_date(post, "completed_date"),
        status=post.get("status", ""),
        rag=post.get("rag", ""),
        note=post.get("note", ""),
    )


def milestone_initial(milestone: Milestone | None) -> MilestoneInput:
    """The form for a saved milestone; the note always starts empty (it says why, each time)."""
    if milestone is None:
        return MilestoneInput()
    return MilestoneInput(
        title=milestone.title,
        project=milestone.project.code if milestone.project is not None else "",
        owner=milestone.owner,
        planned_date=DateParts.of(milestone.planned_date),
        forecast_date=DateParts.of(milestone.forecast_date),
        completed_date=DateParts.of(milestone.completed_date),
        status=milestone.status,
        rag=milestone.rag,
    )
