"""The platform's staff on the FHIR facade: Practitioner and PractitionerRole (UK Core).

Both are made from ``core.User``: the Practitioner is the person (name, the platform's
user id as a local identifier, work email), the PractitionerRole is their one role at their
organisation (ODS code), with their teams as services. Roles are coded twice: in the
platform's own role code system (every role), and in SNOMED CT occupations where one is
an honest equivalent (the UK Core PractitionerRole binding draws on SNOMED CT occupations).

This is the staff directory, not patient data: any caller whose token may read the type
sees every active staff account. It must never show a disabled account, an account with no
staff role, or an API client's service account; and it holds no professional registration
number, because the user model records none.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from joinedup.core.models import User
from joinedup.core.roles import Role
from joinedup.fhir import mapping
from joinedup.fhir import search as fs
from joinedup.fhir.models import ApiClient
from joinedup.fhir.providers import JSON, ModelProvider, Resource, meta, register

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet

P = fs.SearchParam

USER_SYSTEM = "https://joinedup.invalid/fhir/Id/staff-user"
TEAM_SYSTEM = "https://joinedup.invalid/fhir/Id/team"
ROLE_SYSTEM = "https://joinedup.invalid/fhir/CodeSystem/staff-role"

# SNOMED CT occupations for the roles that have an equivalent; the others carry the
# platform's own code only. A district nurse is coded as the broader "professional nurse"
# and a care coordinator as "case manager": SNOMED CT has no closer occupation for them.
SNOMED_ROLES: dict[str, tuple[str, str]] = {
    Role.GP: ("62247001", "General practitioner"),
    Role.DISTRICT_NURSE: ("106292003", "Professional nurse"),
    Role.SOCIAL_WORKER: ("106328005", "Social worker"),
    Role.OCCUPATIONAL_THERAPIST: ("80546007", "Occupational therapist"),
    Role.CARE_COORDINATOR: ("768832004", "Case manager"),
}


def is_practitioner(user: User) -> bool:
    """Whether other resources may point at this user as ``Practitioner/<id>``."""
    return bool(user.is_active and user.role in Role.values)


def practitioner_reference(user: User) -> JSON:
    """A reference to a user: ``Practitioner/<id>`` when served, else the name alone."""
    out: JSON = {"display": user.get_full_name() or user.username}
    if is_practitioner(user):
        out["reference"] = f"Practitioner/{user.pk}"
    return out


def staff(user: User) -> QuerySet[User]:  # noqa: ARG001 - the interface
    """Active accounts with a staff role, less API clients' service accounts."""
    return (
        User.objects.filter(is_active=True, role__in=Role.values)
        .exclude(id__in=ApiClient.objects.values("user_id"))
        .select_related("organisation")
    )


def _staff_with_teams(user: User) -> QuerySet[User]:
    return staff(user).prefetch_related("teams")


def _roles_for(code: str) -> Iterable[str] | None:
    """A role code (ours, or a SNOMED CT occupation) → the stored roles it stands for."""
    if code in Role.values:
        return [code]
    found = [role for role, (snomed, _) in SNOMED_ROLES.items() if snomed == code]
    return found or None


def _name(user: User) -> list[JSON]:
    if not (user.first_name or user.last_name):
        return []
    name: JSON = {"use": "official", "text": user.get_full_name()}
    if user.last_name:
        name["family"] = user.last_name
    if user.first_name:
        name["given"] = user.first_name.split()
    return [name]


def _telecom(user: User) -> list[JSON]:
    return [{"system": "email", "value": user.email, "use": "work"}] if user.email else []


def practitioner_to_fhir(user: User) -> JSON:
    resource: JSON = {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "identifier": [{"system": USER_SYSTEM, "value": str(user.pk)}],
        "active": True,
        "name": _name(user),
        "telecom": _telecom(user),
    }
    return {k: v for k, v in resource.items() if v != []}


def role_code(role: str) -> JSON:
    label = Role(role).label
    codings: list[JSON] = [{"system": ROLE_SYSTEM, "code": role, "display": label}]
    if role in SNOMED_ROLES:
        code, display = SNOMED_ROLES[role]
        codings.insert(0, {"system": mapping.SNOMED, "code": code, "display": display})
    return {"coding": codings, "text": label}


def practitionerrole_to_fhir(user: User) -> JSON:
    """The user's role at their organisation; their teams as (unserved) services."""
    resource: JSON = {
        "resourceType": "PractitionerRole",
        "id": str(user.pk),
        "active": True,
        "practitioner": practitioner_reference(user),
        "code": [role_code(user.role)],
        "telecom": _telecom(user),
    }
    if user.organisation is not None:
        resource["organization"] = mapping.ods_reference(
            user.organisation.ods_code, user.organisation.name
        )
    teams = [
        {"identifier": {"system": TEAM_SYSTEM, "value": str(team.pk)}, "display": team.name}
        for team in user.teams.all()
    ]
    if teams:
        resource["healthcareService"] = teams
    return {k: v for k, v in resource.items() if v != []}


class _StaffProvider(ModelProvider):
    """Users carry no change time: lastUpdated is when the server started, or when the
    account was made if that is later (as for Organization)."""

    STARTED = datetime.now().astimezone()

    def render_rows(self, rows: list[Any]) -> list[Resource]:
        out = []
        for row in rows:
            moment = max(self.STARTED, row.date_joined)
            body = self.to_fhir(row)
            body["meta"] = meta(1, moment, self.profile)
            out.append(Resource(self.resource_type, body["id"], body, 1, moment))
        return out


def practitioner_provider() -> ModelProvider:
    return _StaffProvider(
        resource_type="Practitioner",
        model=User,
        queryset=staff,
        to_fhir=practitioner_to_fhir,
        last_updated_field="",
        params={
            "identifier": P(
                "identifier",
                "token",
                ("id",),
                f"The platform's user id (system {USER_SYSTEM})",
                system=USER_SYSTEM,
            ),
            "name": P("name", "string", ("last_name", "first_name"), "Family or given name"),
            "family": P("family", "string", ("last_name",), "Family name"),
            "given": P("given", "string", ("first_name",), "Given name"),
        },
        id_field="id",
        profile=mapping.UK_CORE + "Practitioner",
        documentation="Active staff of the partnership's organisations (the platform's users, "
        "never API service accounts); read-only. No professional registration numbers are held. "
        "lastUpdated is when the server started, or when the account was made if later.",
    )


def practitionerrole_provider() -> ModelProvider:
    return _StaffProvider(
        resource_type="PractitionerRole",
        model=User,
        queryset=_staff_with_teams,
        to_fhir=practitionerrole_to_fhir,
        last_updated_field="",
        params={
            "practitioner": P(
                "practitioner", "reference", ("id",), "The practitioner", targets=("Practitioner",)
            ),
            "organization": P(
                "organization",
                "reference",
                ("organisation__ods_code",),
                "The organisation (Organization, by ODS code)",
                targets=("Organization",),
            ),
            "role": P(
                "role",
                "token",
                ("role",),
                f"The role: a SNOMED CT occupation or a code of {ROLE_SYSTEM}",
                code_map=_roles_for,
                sortable=False,
            ),
        },
        id_field="id",
        profile=mapping.UK_CORE + "PractitionerRole",
        documentation="Each staff member's role at their organisation, coded in SNOMED CT "
        f"occupations where one is equivalent and always in {ROLE_SYSTEM}; their teams are "
        "listed as healthcareService by identifier. Read-only; the id is the Practitioner's.",
    )


def register_all() -> None:
    register(practitioner_provider())
    register(practitionerrole_provider())
