"""Roles and what each may do.

Permissions are granted to roles in code, reviewed like any other change, and
checked on the server for every request (``joinedup.core.access``). A role that
works with people directly may see a person's record only where the user also
has a legitimate relationship (see ``joinedup.people.models.PersonQuerySet``);
the role alone never opens a record.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    GP = "gp", "GP"
    DISTRICT_NURSE = "district_nurse", "District nurse"
    SOCIAL_WORKER = "social_worker", "Social worker"
    OCCUPATIONAL_THERAPIST = "occupational_therapist", "Occupational therapist"
    CARE_COORDINATOR = "care_coordinator", "Care coordinator"
    DISCHARGE_COORDINATOR = "discharge_coordinator", "Discharge coordinator"
    ANALYST = "analyst", "Public health analyst"
    ENGAGEMENT_OFFICER = "engagement_officer", "Engagement officer"
    WORKFORCE_LEAD = "workforce_lead", "Workforce lead"
    PORTFOLIO_OFFICER = "portfolio_officer", "Portfolio officer"
    ADMINISTRATOR = "administrator", "Administrator"


class Permission(StrEnum):
    VIEW_PERSON = "view_person"  # direct care: needs a legitimate relationship too
    BREAK_GLASS = "break_glass"
    VIEW_DISCHARGE = "view_discharge"
    VIEW_POPULATION = "view_population"  # the pseudonymised planning zone only
    MANAGE_CITIZENS = "manage_citizens"
    VIEW_WORKFORCE = "view_workforce"
    MANAGE_PORTFOLIO = "manage_portfolio"
    MANAGE_CARE_HOMES = "manage_care_homes"  # the care-home register and its alignment
    VIEW_DIRECTORY = "view_directory"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    REVIEW_BREAK_GLASS = "review_break_glass"
    # Demographics of two source records side by side, to decide if they are one person;
    # never clinical facts. Every view and decision is audited.
    REVIEW_LINKS = "review_links"
    VIEW_DELIVERIES = "view_deliveries"  # what each feed sent and why rows were kept back


_DIRECT_CARE = frozenset(
    {Permission.VIEW_PERSON, Permission.BREAK_GLASS, Permission.VIEW_DIRECTORY}
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.GP: _DIRECT_CARE,
    Role.DISTRICT_NURSE: _DIRECT_CARE,
    Role.SOCIAL_WORKER: _DIRECT_CARE,
    Role.OCCUPATIONAL_THERAPIST: _DIRECT_CARE,
    # Care coordinators run the care-home scheme day to day: the register and its alignment.
    Role.CARE_COORDINATOR: _DIRECT_CARE | {Permission.MANAGE_CARE_HOMES},
    Role.DISCHARGE_COORDINATOR: _DIRECT_CARE | {Permission.VIEW_DISCHARGE},
    Role.ANALYST: frozenset({Permission.VIEW_POPULATION, Permission.VIEW_DIRECTORY}),
    Role.ENGAGEMENT_OFFICER: frozenset({Permission.MANAGE_CITIZENS, Permission.VIEW_DIRECTORY}),
    Role.WORKFORCE_LEAD: frozenset({Permission.VIEW_WORKFORCE, Permission.VIEW_DIRECTORY}),
    Role.PORTFOLIO_OFFICER: frozenset(
        {
            Permission.MANAGE_PORTFOLIO,
            Permission.MANAGE_CARE_HOMES,  # the care-home programme is one of the portfolio's
            Permission.VIEW_POPULATION,
            Permission.VIEW_DIRECTORY,
        }
    ),
    # Administrators run the platform; they do not read care records.
    Role.ADMINISTRATOR: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.VIEW_AUDIT,
            Permission.REVIEW_BREAK_GLASS,
            Permission.REVIEW_LINKS,
            Permission.VIEW_DELIVERIES,
            Permission.VIEW_DIRECTORY,
            Permission.MANAGE_CARE_HOMES,
            Permission.VIEW_WORKFORCE,  # staff records, not care records
        }
    ),
}


def role_has(role: str, permission: Permission) -> bool:
    """Whether the role carries the permission; an unknown role carries none."""
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False
