"""Writes and audited reads of person-level data.

Opening a person's record is an act the audit trail must see, so it lives here
beside the writes rather than in the selectors: ``person_open`` returns the
person only through the user's scope, and records the read, or the refusal.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q

from joinedup.core import nhs_number
from joinedup.core import services as core_services
from joinedup.core.audit import audit_record
from joinedup.core.errors import NoRelationship
from joinedup.core.models import AuditAction, BreakGlassGrant, Organisation, Team, User
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, InvalidInput, NotFound
from joinedup.people.models import CareRelationship, Person, RelationshipKind

_SYSTEM = "person-existence-check"


def person_open(*, user: User, person_id: uuid.UUID, resource: str = "person.record") -> Person:
    """The person, if the user may see them; every outcome is audited."""
    if not user.has_role_permission(Permission.VIEW_PERSON):
        audit_record(
            actor=user,
            action=AuditAction.DENY,
            resource=resource,
            person_id=person_id,
            outcome="denied",
            reason="role has no direct care access",
        )
        raise AccessDenied("your role does not give access to care records")
    person = (
        Person.objects.visible_to(user)
        .select_related("registered_practice__neighbourhood")
        .filter(id=person_id)
        .first()
    )
    if person is not None:
        audit_record(actor=user, action=AuditAction.READ, resource=resource, person_id=person_id)
        person.opened_for = user.pk  # lets the person's other records be read for this user
        return person
    if not Person.objects.for_system(_SYSTEM).filter(id=person_id).exists():
        raise NotFound("there is no record with this identifier")
    audit_record(
        actor=user,
        action=AuditAction.DENY,
        resource=resource,
        person_id=person_id,
        outcome="denied",
        reason="no legitimate relationship",
    )
    raise NoRelationship(
        "you have no care relationship with this person",
        can_break_glass=user.has_role_permission(Permission.BREAK_GLASS),
        person_id=str(person_id),
    )


def person_break_glass(
    *, user: User, person_id: uuid.UUID, reason: str, explanation: str
) -> BreakGlassGrant:
    """Open one record without a relationship, for a stated reason, for a limited time."""
    if not Person.objects.for_system(_SYSTEM).filter(id=person_id).exists():
        raise NotFound("there is no record with this identifier")
    return core_services.break_glass_grant_create(
        user=user, person_id=person_id, reason=reason, explanation=explanation
    )


@transaction.atomic
def person_create(
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    sex: str,
    nhs_number: str | None = None,
    address: str = "",
    postcode: str = "",
    registered_practice: Organisation | None = None,
    opted_out_secondary_use: bool = False,
    created_by: User | None = None,
) -> Person:
    """Register a person in the index (audited as a create)."""
    person = Person.objects.create(
        nhs_number=nhs_number,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        sex=sex,
        address=address,
        postcode=postcode,
        registered_practice=registered_practice,
        opted_out_secondary_use=opted_out_secondary_use,
    )
    audit_record(
        actor=created_by, action=AuditAction.CREATE, resource="person", person_id=person.id
    )
    return person


@transaction.atomic
def relationship_start(
    *,
    person: Person,
    team: Team,
    kind: RelationshipKind,
    user: User | None = None,
    started_on: date | None = None,
    started_by: User | None = None,
) -> CareRelationship:
    """Open a person's record to a team (or one professional in it)."""
    relationship = CareRelationship(person=person, team=team, user=user, kind=kind)
    if started_on is not None:
        relationship.started_on = started_on
    relationship.save()
    audit_record(
        actor=started_by,
        action=AuditAction.CREATE,
        resource=f"relationship:{kind}:{team.name}",
        person_id=person.id,
    )
    return relationship


def relationships_end(
    *, relationship_ids: Iterable[int], ended_on: date, ended_by: User | None = None
) -> int:
    """Close care relationships that are still open on a day: from the day after, the
    team no longer reaches the person's record through them. Returns how many closed."""
    open_ones = list(
        CareRelationship.objects.filter(id__in=list(relationship_ids), ended_on__isnull=True)
        .select_related("team")
        .order_by("id")
    )
    for relationship in open_ones:
        relationship.ended_on = ended_on
        relationship.save(update_fields=["ended_on"])
        audit_record(
            actor=ended_by,
            action=AuditAction.UPDATE,
            resource=f"relationship:{relationship.kind}:{relationship.team.name}:end",
            person_id=relationship.person_id,
        )
    return len(open_ones)


def relationship_end_for(
    *,
    person: Person,
    team: Team,
    kind: RelationshipKind,
    ended_on: date,
    ended_by: User | None = None,
) -> int:
    """Close the team's open relationships of one kind with a person (see relationships_end)."""
    ids = CareRelationship.objects.filter(
        person=person, team=team, kind=kind, ended_on__isnull=True
    ).values_list("id", flat=True)
    return relationships_end(relationship_ids=list(ids), ended_on=ended_on, ended_by=ended_by)


@dataclass(frozen=True)
class SearchResult:
    by: str  # "nhs_number", "name_and_date_of_birth" or "postcode"
    people: list[Person]
    # A person the NHS number found whom the user may not see: offered through break-glass.
    hidden_match: uuid.UUID | None = None


_POSTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$")
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y")


def person_search(*, user: User, query: str, limit: int = 50) -> SearchResult:
    """Find people the user may see by NHS number, name and date of birth, or postcode.

    The search is audited by what it searched on and how many it found, never by the
    query text, which would put an NHS number or a name into the audit trail.
    """
    if not user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    by, condition = _search_condition(query)
    visible = list(Person.objects.visible_to(user).filter(condition)[:limit])
    hidden = None
    if by == "nhs_number" and not visible:
        match = Person.objects.for_system(_SYSTEM).filter(condition).values_list("id", flat=True)
        hidden = next(iter(match), None)
    audit_record(
        actor=user,
        action=AuditAction.SEARCH,
        resource="person.search",
        reason=f"by {by}: {len(visible)} found"
        + ("; a record outside the user's care" if hidden else ""),
    )
    return SearchResult(by=by, people=visible, hidden_match=hidden)


def _search_condition(query: str) -> tuple[str, Q]:
    text = " ".join(query.split())
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit():
        return "nhs_number", Q(nhs_number=nhs_number.parse(digits, where="q"))
    if _POSTCODE.match(text.upper()):
        compact = text.upper().replace(" ", "")
        return "postcode", Q(postcode__iexact=f"{compact[:-3]} {compact[-3:]}")
    *names, last = text.split(" ") if " " in text else ("", text)
    born = _date(last)
    if born is None or not any(names):
        raise InvalidInput(
            "search by NHS number, by name and date of birth (for example Smith 17/05/1940), "
            "or by postcode",
            where="q",
        )
    condition = Q(date_of_birth=born)
    for name in names:
        condition &= Q(family_name__iexact=name) | Q(given_name__iexact=name)
    return "name_and_date_of_birth", condition


def _date(text: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a date of birth
        except ValueError:
            continue
    return None


@transaction.atomic
def person_opt_out_set(*, user: User, person_id: uuid.UUID, opted_out: bool) -> Person:
    """Record (or withdraw) a person's National Data Opt-out, as their care team was told it.

    Only someone who may see the person records it: the person's own GP practice or care
    team, on the person's behalf. It is the local record the platform honours (the
    planning warehouse leaves the person out); it does not register the choice with the
    national service. Audited with who recorded it, since the index keeps no author.
    """
    person = Person.objects.visible_to(user).select_for_update(of=("self",)).filter(id=person_id)
    found = person.first()
    if found is None:
        raise NotFound("there is no record with this identifier you may see")
    if found.opted_out_secondary_use != opted_out:
        found.opted_out_secondary_use = opted_out
        found.save(update_fields=["opted_out_secondary_use", "updated_at"])
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        resource="person.opt_out",
        person_id=found.id,
        reason="National Data Opt-out recorded" if opted_out else "National Data Opt-out withdrawn",
    )
    return found
