"""The platform's staff on the FHIR facade: Practitioner and PractitionerRole (UK Core).

Both are made from ``core.User``: the Practitioner is the person (name, the platform's
user id as a local identifier, work email), the PractitionerRole is their one role at their
organisation (ODS code), with their teams as services. Roles are coded twice: in the
platform's own role code system (every role), and in SNOMED CT occupations where one is
an honest equivalent (the UK Core PractitionerRole binding draws on SNOMED CT occupations).

This is the staff directory, not patient data: any caller whose token may read the type
sees every active staff account. It must never show a disabled account, a superuser, or an
API client's service account; and it holds no professional registration number, because
the user model records none. An account with no role yet is a Practitioner without a
PractitionerRole.

Administrators (the role that manages users) may write both, through core's services: a
Practitioner create makes an account with no role, no password and no identity-provider
subject, which opens nothing and cannot sign in until an administrator gives it a way to;
its update changes the name and work email. A PractitionerRole create gives such an
account its role, organisation and teams (its id is the Practitioner's), and an update
changes them. The administrator role itself is never given or taken through the API, and
nobody changes their own role. Writes never reach a disabled or service account: neither
is served, so there is nothing to update.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from joinedup.core import services as core_services
from joinedup.core.models import Organisation, Team, User
from joinedup.core.roles import Role
from joinedup.errors import AccessDenied, Conflict
from joinedup.fhir import domain, mapping, versions
from joinedup.fhir import search as fs
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.models import ApiClient
from joinedup.fhir.providers import (
    JSON,
    Context,
    ModelProvider,
    Resource,
    UnstampedProvider,
    audit_denied,
    register,
)
from joinedup.fhir.roundtrip import text_element

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
    return bool(
        user.is_active and not user.is_superuser and (user.role in Role.values or not user.role)
    )


def practitioner_reference(user: User) -> JSON:
    """A reference to a user: ``Practitioner/<id>`` when served, else the name alone."""
    out: JSON = {"display": user.get_full_name() or user.username}
    if is_practitioner(user):
        out["reference"] = f"Practitioner/{user.pk}"
    return out


def staff(user: User) -> QuerySet[User]:  # noqa: ARG001 - the interface
    """Active accounts with a staff role or none yet, less API clients' service accounts
    and superusers (who run the platform, not care)."""
    return (
        User.objects.filter(Q(role__in=Role.values) | Q(role=""), is_active=True)
        .exclude(is_superuser=True)
        .exclude(id__in=ApiClient.objects.values("user_id"))
        .select_related("organisation")
    )


def _staff_with_teams(user: User) -> QuerySet[User]:
    """The staff who have a role: each is one PractitionerRole."""
    return staff(user).filter(role__in=Role.values).prefetch_related("teams")


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


# -- writing


def _name_parts(body: JSON) -> tuple[str, str]:
    """(first name, last name) from ``name[0]``: the given names and the family name."""
    names = body.get("name")
    name = names[0] if isinstance(names, list) and names else None
    if not isinstance(name, dict):
        raise Unprocessable("give the practitioner's name", where="Practitioner.name")
    given = name.get("given") or []
    if not isinstance(given, list) or not all(isinstance(g, str) for g in given):
        raise Unprocessable("given names are strings", where="Practitioner.name[0].given")
    first = " ".join(given)
    last = text_element(name, "family", "Practitioner.name[0].family", limit=150, required=False)
    if not (first.strip() or last.strip()):
        raise Unprocessable(
            "give the family name, the given names or both", where="Practitioner.name[0]"
        )
    if len(first) > 150:
        raise Unprocessable("at most 150 characters are kept", where="Practitioner.name[0].given")
    return first, last


def _email(body: JSON, resource_type: str) -> str:
    """The work email: the first ``telecom`` of system email ("" for none)."""
    telecom = body.get("telecom")
    for index, item in enumerate(telecom if isinstance(telecom, list) else []):
        if isinstance(item, dict) and item.get("system") == "email":
            value = item.get("value")
            try:
                if not isinstance(value, str) or len(value) > 254:
                    raise ValidationError("not an email address")
                validate_email(value)
            except ValidationError:
                raise Unprocessable(
                    "not an email address", where=f"{resource_type}.telecom[{index}].value"
                ) from None
            return str(value)
    return ""


class PractitionerWriter:
    """Staff accounts through core's services; the account's id is the server's."""

    def create(self, ctx: Context, body: JSON) -> User:
        if "identifier" in body:
            raise Unprocessable(
                "the server gives each account its identifier: leave it out",
                where="Practitioner.identifier",
            )
        first, last = _name_parts(body)
        return core_services.staff_account_create(
            first_name=first,
            last_name=last,
            email=_email(body, "Practitioner"),
            created_by=ctx.user,
        )

    def update(self, ctx: Context, row: User, body: JSON) -> User:
        first, last = _name_parts(body)
        return core_services.user_details_set(
            user=row,
            first_name=first,
            last_name=last,
            email=_email(body, "Practitioner"),
            changed_by=ctx.user,
        )


_PRACTITIONER = re.compile(r"(?:^|/)Practitioner/(\d{1,18})$")
_TEAM_ID = re.compile(r"^\d{1,18}$")
_ORGANIZATION = re.compile(r"(?:^|/)Organization/([A-Za-z0-9]{1,10})$")


def _practitioner_id(body: JSON) -> int:
    ref = body.get("practitioner")
    found = _PRACTITIONER.search(str(ref.get("reference", ""))) if isinstance(ref, dict) else None
    if found is None:
        raise Unprocessable(
            "name the practitioner (Practitioner/<id>)", where="PractitionerRole.practitioner"
        )
    return int(found.group(1))


def _role_of(concept: Any) -> str | None:
    """The one platform role a CodeableConcept's codings name, or None."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    roles = set()
    for coding in codings if isinstance(codings, list) else []:
        code = coding.get("code") if isinstance(coding, dict) else None
        system = coding.get("system") if isinstance(coding, dict) else None
        if system == ROLE_SYSTEM and code in Role.values:
            roles.add(code)
        elif system == mapping.SNOMED:
            roles.update(str(r) for r, (snomed, _) in SNOMED_ROLES.items() if snomed == code)
        else:
            return None
    return roles.pop() if len(roles) == 1 else None


def _role(body: JSON) -> Role:
    codes = body.get("code")
    role = _role_of(codes[0]) if isinstance(codes, list) and codes else None
    if role is None:
        raise Unprocessable(
            f"give one role, coded in {ROLE_SYSTEM} or as a SNOMED CT occupation this "
            "platform has a role for",
            where="PractitionerRole.code[0]",
        )
    if role == Role.ADMINISTRATOR:
        raise Unprocessable(
            "the administrator role is given at the command line only",
            where="PractitionerRole.code[0]",
        )
    return Role(role)


def _organisation(ctx: Context, body: JSON) -> Organisation | None:
    ref = body.get("organization")
    if ref is None:
        return None
    code = None
    if isinstance(ref, dict):
        found = _ORGANIZATION.search(str(ref.get("reference", "")))
        ident = ref.get("identifier")
        if found is not None:
            code = found.group(1)
        elif isinstance(ident, dict) and ident.get("system") == mapping.ODS:
            code = str(ident.get("value", ""))
    organisation = domain.organisations(ctx.user).filter(ods_code=code).first() if code else None
    if organisation is None:
        raise Unprocessable(
            "there is no organisation with this ODS code", where="PractitionerRole.organization"
        )
    return organisation


def _team_ids(body: JSON) -> list[tuple[int, int]]:
    """(index, team id) of each ``healthcareService``: a team, by its identifier."""
    services = body.get("healthcareService") or []
    out = []
    for index, ref in enumerate(services if isinstance(services, list) else [None]):
        ident = ref.get("identifier") if isinstance(ref, dict) else None
        value = ident.get("value") if isinstance(ident, dict) else None
        system = ident.get("system") if isinstance(ident, dict) else None
        if system != TEAM_SYSTEM or not isinstance(value, str) or not _TEAM_ID.match(value):
            raise Unprocessable(
                f"name a team by its identifier (system {TEAM_SYSTEM})",
                where=f"PractitionerRole.healthcareService[{index}]",
            )
        out.append((index, int(value)))
    return out


def _teams(body: JSON) -> list[Team]:
    wanted = _team_ids(body)
    found = Team.objects.in_bulk([pk for _, pk in wanted])
    for index, pk in wanted:
        if pk not in found:
            raise Unprocessable(
                "there is no team with this identifier",
                where=f"PractitionerRole.healthcareService[{index}]",
            )
    return [found[pk] for _, pk in wanted]


class PractitionerRoleWriter:
    """A staff member's role, organisation and teams through core's services."""

    def create(self, ctx: Context, body: JSON) -> User:
        wanted = _practitioner_id(body)
        user = staff(ctx.user).select_for_update(of=("self",)).filter(pk=wanted).first()
        if user is None:
            raise Unprocessable(
                "there is no Practitioner with this id", where="PractitionerRole.practitioner"
            )
        if user.role or versions.newest("PractitionerRole", [str(user.pk)]):
            raise Conflict(
                f"Practitioner/{user.pk} already has a role: update PractitionerRole/{user.pk}",
                where="PractitionerRole.practitioner",
            )
        return self._set(ctx, user, body)

    def update(self, ctx: Context, row: User, body: JSON) -> User:
        if _practitioner_id(body) != row.pk:
            raise Unprocessable(
                "a role cannot move to another practitioner", where="PractitionerRole.practitioner"
            )
        return self._set(ctx, row, body)

    def _set(self, ctx: Context, user: User, body: JSON) -> User:
        core_services.user_role_set(
            user=user,
            role=_role(body),
            organisation=_organisation(ctx, body),
            teams=_teams(body),
            changed_by=ctx.user,
        )
        return _staff_with_teams(ctx.user).get(pk=user.pk)


def in_served_order(body: JSON) -> JSON:
    """The role's codings and the teams as reads give them, where the body names the same
    ones in another order or fewer codings: neither order means anything in FHIR, and
    the loss check compares lists by position."""
    out = copy.deepcopy(body)
    codes = out.get("code")
    first = codes[0] if isinstance(codes, list) and codes else None
    role = _role_of(first)
    if isinstance(first, dict) and role is not None:
        served = role_code(role)["coding"]
        sent = first.get("coding")
        if isinstance(sent, list) and all(any(_within(c, s) for s in served) for c in sent):
            first["coding"] = served
    try:
        wanted = _team_ids(out)
    except Unprocessable:
        return out
    names = dict(Team.objects.filter(pk__in=[pk for _, pk in wanted]).values_list("pk", "name"))
    services = out["healthcareService"] if wanted else []
    order = sorted(range(len(wanted)), key=lambda i: names.get(wanted[i][1], ""))
    if services:
        out["healthcareService"] = [services[i] for i in order]
    return out


def _within(sent: Any, served: JSON) -> bool:
    return isinstance(sent, dict) and all(served.get(k) == v for k, v in sent.items())


class _StaffProvider(UnstampedProvider):
    """Users carry no change time: lastUpdated is when the server started, or when the
    account was made if that is later, or the last write through FHIR. Writes are for
    administrators, checked (and a refusal audited) before the write's transaction."""

    def base_moment(self, row: Any) -> datetime:
        joined: datetime = row.date_joined
        return max(self.STARTED, joined)

    def create(self, ctx: Context, body: JSON) -> Resource:
        ctx.grant.require(self.resource_type, "c")
        core_services.require_staff_manager(ctx.user, "create staff records")
        return super().create(ctx, self._ordered(body))

    def update(self, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
        ctx.grant.require(self.resource_type, "u")
        core_services.require_staff_manager(ctx.user, "change staff records")
        if self.resource_type == "PractitionerRole" and logical_id == str(ctx.user.pk):
            audit_denied(ctx, "PractitionerRole", "own role")
            raise AccessDenied("you cannot change your own role")
        return super().update(ctx, logical_id, self._ordered(body), if_match)

    def _ordered(self, body: JSON) -> JSON:
        return in_served_order(body) if self.resource_type == "PractitionerRole" else body


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
        writer=PractitionerWriter(),
        documentation="Active staff of the partnership's organisations (the platform's users, "
        "never API service accounts). Administrators may create one (name and work email; the "
        "account has no role and cannot sign in until an administrator gives it a way to) and "
        "update the name and email. No professional registration numbers are held. "
        "lastUpdated is when the server started, when the account was made, or the last write.",
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
        writer=PractitionerRoleWriter(),
        documentation="Each staff member's role at their organisation, coded in SNOMED CT "
        f"occupations where one is equivalent and always in {ROLE_SYSTEM}; their teams are "
        "listed as healthcareService by identifier; the id is the Practitioner's. "
        "Administrators may create one for a Practitioner without a role and update it "
        "(role, organisation, teams); never the administrator role, never their own.",
    )


def register_all() -> None:
    register(practitioner_provider())
    register(practitionerrole_provider())
