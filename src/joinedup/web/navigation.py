"""The module map as the user sees it: what each role may open, and what it does first.

A module that has not been built yet is shown, disabled, so people can see
what is coming; it becomes a link the day its app lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.urls import NoReverseMatch, reverse

from joinedup.core.roles import Permission, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from joinedup.core.models import User


@dataclass(frozen=True)
class Module:
    key: str
    label: str
    url_name: str
    permission: Permission
    description: str

    @property
    def href(self) -> str | None:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return None


MODULES = (
    Module(
        "people",
        "People",
        "people:list",
        Permission.VIEW_PERSON,
        "The people your teams care for, and each person's shared record.",
    ),
    Module(
        "neighbourhoods",
        "Neighbourhoods",
        "neighbourhoods:home",
        Permission.VIEW_PERSON,
        "Referrals through one front door, caseloads, care plans and MDT meetings.",
    ),
    Module(
        "carehomes",
        "Care homes",
        "carehomes:home",
        Permission.VIEW_DIRECTORY,
        "Care homes, their aligned GP practices, the alignment planner and home-round lists.",
    ),
    Module(
        "discharge",
        "Discharge",
        "discharge:home",
        Permission.VIEW_DISCHARGE,
        "Who no longer meets the criteria to reside, on which pathway, and what delays them.",
    ),
    Module(
        "population",
        "Population health",
        "population:home",
        Permission.VIEW_POPULATION,
        "Life expectancy, inequalities, frailty and vaccine uptake by neighbourhood.",
    ),
    Module(
        "citizens",
        "Citizens",
        "citizens:home",
        Permission.MANAGE_CITIZENS,
        "The register of volunteer citizens and fairly drawn panels.",
    ),
    Module(
        "directory",
        "Service directory",
        "directory:home",
        Permission.VIEW_DIRECTORY,
        "Every service on offer in the borough.",
    ),
    Module(
        "workforce",
        "Workforce",
        "workforce:home",
        Permission.VIEW_WORKFORCE,
        "Staff across all partners: roles, WTE and gaps.",
    ),
    Module(
        "portfolio",
        "Portfolio",
        "portfolio:home",
        Permission.MANAGE_PORTFOLIO,
        "Programmes, milestones, decisions, risks and benefits.",
    ),
    Module(
        "administration",
        "Administration",
        "core:admin-home",
        Permission.MANAGE_USERS,
        "Users, break-glass reviews and the audit trail.",
    ),
)

# What each role does first: the order of its home page's cards.
FIRST_TASKS: dict[Role, tuple[str, ...]] = {
    Role.GP: ("people", "neighbourhoods", "directory"),
    Role.DISTRICT_NURSE: ("people", "neighbourhoods", "directory"),
    Role.SOCIAL_WORKER: ("people", "neighbourhoods", "directory"),
    Role.OCCUPATIONAL_THERAPIST: ("people", "neighbourhoods", "directory"),
    Role.CARE_COORDINATOR: ("neighbourhoods", "people", "directory"),
    Role.DISCHARGE_COORDINATOR: ("discharge", "people", "directory"),
    Role.ANALYST: ("population", "directory"),
    Role.ENGAGEMENT_OFFICER: ("citizens", "directory"),
    Role.WORKFORCE_LEAD: ("workforce", "directory"),
    Role.PORTFOLIO_OFFICER: ("portfolio", "population", "directory"),
    Role.ADMINISTRATOR: ("administration", "directory"),
}

ROLE_INTRODUCTIONS: dict[Role, str] = {
    Role.GP: "See the whole record of the people your practice and neighbourhood team care for.",
    Role.DISTRICT_NURSE: "Your team's caseload and each person's record across every organisation.",
    Role.SOCIAL_WORKER: "The people you support, with what health services know about them.",
    Role.OCCUPATIONAL_THERAPIST: "Your caseload, assessments and the packages of care around them.",
    Role.CARE_COORDINATOR: "Referrals into your neighbourhood team and the people on its caseload.",
    Role.DISCHARGE_COORDINATOR: "Patients ready to leave hospital and what is holding them up.",
    Role.ANALYST: "Population health and inequalities, from pseudonymised data only.",
    Role.ENGAGEMENT_OFFICER: "The citizens' register and fair, representative panels.",
    Role.WORKFORCE_LEAD: "The partnership's staff baseline and where the gaps are.",
    Role.PORTFOLIO_OFFICER: "Programmes, decisions, risks and the benefits they deliver.",
    Role.ADMINISTRATOR: "Users and their access, break-glass reviews and the audit trail.",
}


def navigation_for(user: User | AnonymousUser) -> list[Module]:
    """The modules this user's role may open, in the module map's order."""
    if not user.is_authenticated:
        return []
    return [m for m in MODULES if user.has_role_permission(m.permission)]


def first_tasks_for(user: User) -> list[Module]:
    by_key = {m.key: m for m in MODULES}
    try:
        keys = FIRST_TASKS[Role(user.role)]
    except ValueError:
        return []
    return [by_key[k] for k in keys if user.has_role_permission(by_key[k].permission)]
