"""Writes through the FHIR API, and the tokens that authorise them.

Each write is atomic, audited, and leaves a ``ResourceVersion`` so ``vread`` and
``_history`` can show what every version looked like. Optimistic concurrency: an update
that names a stale version (``If-Match``) fails with 412 and changes nothing.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from joinedup.core import nhs_number
from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, Conflict, InvalidInput, NotFound
from joinedup.fhir import auth, mapping, versions
from joinedup.fhir.errors import Unprocessable
from joinedup.fhir.models import AccessToken, ApiClient
from joinedup.fhir.providers import JSON, Context, Resource
from joinedup.fhir.validation import validate
from joinedup.people import services as people_services
from joinedup.people.models import RelationshipKind, Sex

if TYPE_CHECKING:
    from joinedup.core.models import User
    from joinedup.people.models import Person

TOKEN_LIFETIME = timedelta(hours=1)
USER_TOKEN_LIFETIME = timedelta(hours=8)  # one shift, as a web session


# -- Patient writes


@dataclass(frozen=True)
class PatientFields:
    """What the person index keeps of a Patient resource."""

    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    nhs_number: str | None
    address: str
    postcode: str
    registered_practice: Organisation | None
    date_of_death: date | None
    ethnic_category: str


def patient_fields(body: JSON) -> PatientFields:
    """The person index's fields from a valid Patient; what it cannot hold is refused."""
    validate(body, expected="Patient")
    names = body.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else None)
    if not name or not name.get("family"):
        raise Unprocessable("a Patient needs a name with a family name", where="Patient.name")
    born = body.get("birthDate")
    if not born or len(born) != 10:
        raise Unprocessable(
            "a Patient needs a full birthDate (YYYY-MM-DD)", where="Patient.birthDate"
        )
    gender = body.get("gender")
    if gender is not None and gender not in set(Sex.values):
        raise InvalidInput("gender must be male, female, other or unknown", where="Patient.gender")
    number = None
    for identifier in body.get("identifier") or []:
        if identifier.get("system") == mapping.NHS_NUMBER and identifier.get("value"):
            try:
                number = nhs_number.parse(identifier["value"], where="Patient.identifier")
            except InvalidInput as exc:
                raise Unprocessable(exc.detail, where="Patient.identifier") from None
    address = (body.get("address") or [{}])[0]
    ethnic = mapping.ethnic_category_of(body) or ""
    if ethnic and ethnic not in mapping.ETHNIC_CODES:
        raise InvalidInput(
            "the ethnic category is an NHS code: A to S, or Z for not stated",
            where="Patient.extension",
        )
    return PatientFields(
        given_name=" ".join(name.get("given") or [])[:100],
        family_name=name["family"][:100],
        date_of_birth=date.fromisoformat(born),
        sex=str(gender or Sex.UNKNOWN),
        nhs_number=number,
        address=", ".join(address.get("line") or [])[:300],
        postcode=(address.get("postalCode") or "").upper()[:10],
        registered_practice=_practice(body.get("generalPractitioner") or []),
        date_of_death=_death(body),
        ethnic_category=ethnic,
    )


def _practice(references: list[JSON]) -> Organisation | None:
    for reference in references:
        code = (reference.get("identifier") or {}).get("value")
        ref = reference.get("reference") or ""
        if not code and ref.startswith("Organization/"):
            code = ref.removeprefix("Organization/")
        if code:
            found = Organisation.objects.filter(ods_code=code).first()
            if found is None:
                raise Unprocessable(
                    f"there is no organisation with ODS code {code}",
                    where="Patient.generalPractitioner",
                )
            return found
    return None


def _death(body: JSON) -> date | None:
    moment = body.get("deceasedDateTime")
    if moment:
        return date.fromisoformat(moment[:10])
    if body.get("deceasedBoolean") is True:
        raise Unprocessable(
            "the record keeps a date of death: send deceasedDateTime", where="Patient.deceased"
        )
    return None


def _require_direct_care(ctx: Context) -> None:
    if not ctx.user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")


@transaction.atomic
def patient_create(*, ctx: Context, body: JSON) -> Resource:
    """Register a person, opened to the caller's team (who is caring for them)."""
    ctx.grant.require("Patient", "c")
    _require_direct_care(ctx)
    fields = patient_fields(body)
    team = ctx.user.teams.order_by("id").first()
    if team is None:
        raise AccessDenied(
            "registering a person opens their record to your team: you are in no team"
        )
    try:
        with transaction.atomic():
            person = people_services.person_create(
                given_name=fields.given_name,
                family_name=fields.family_name,
                date_of_birth=fields.date_of_birth,
                sex=fields.sex,
                nhs_number=fields.nhs_number,
                address=fields.address,
                postcode=fields.postcode,
                registered_practice=fields.registered_practice,
                created_by=ctx.user,
            )
    except IntegrityError:
        raise Conflict(
            "a person with this NHS number is already in the index", where="Patient.identifier"
        ) from None
    if fields.date_of_death is not None or fields.ethnic_category:
        person.date_of_death = fields.date_of_death
        person.ethnic_category = fields.ethnic_category
        person.save(update_fields=["date_of_death", "ethnic_category", "updated_at"])
    people_services.relationship_start(
        person=person,
        team=team,
        kind=RelationshipKind.CARE_TEAM,
        user=ctx.user,
        started_by=ctx.user,
    )
    return _record_version(person, version=1, method="POST")


@transaction.atomic
def patient_update(*, ctx: Context, logical_id: str, body: JSON, if_match: int | None) -> Resource:
    """Change a person's demographics; ``if_match`` must name the current version."""
    from joinedup.fhir.providers import provider_for

    ctx.grant.require("Patient", "u")
    _require_direct_care(ctx)
    if body.get("id") != logical_id:
        raise InvalidInput("the resource's id must match the id in the URL", where="Patient.id")
    provider = provider_for("Patient")
    current = provider.read(ctx, logical_id)
    versions.require_current(current, if_match)
    fields = patient_fields(body)
    person = _opened_person(ctx, current.person_id)
    if not versions.is_stored(current):
        versions.store(current, method="PUT")  # what it was before this change
    for name in PatientFields.__dataclass_fields__:
        setattr(person, name, getattr(fields, name))
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError:
        raise Conflict(
            "another person in the index has this NHS number", where="Patient.identifier"
        ) from None
    audit_record(
        actor=ctx.user, action=AuditAction.UPDATE, resource="fhir.Patient", person_id=person.id
    )
    return _record_version(person, version=current.version + 1, method="PUT")


def _opened_person(ctx: Context, person_id: uuid.UUID | None) -> Person:
    from joinedup.fhir import domain

    if person_id is None:
        raise NotFound("there is no Patient with this id")
    person = (
        domain.people(ctx.user)
        .select_for_update(of=("self",))
        .select_related("registered_practice")
        .filter(id=person_id)
        .first()
    )
    if person is None:
        raise NotFound("there is no Patient with this id")
    return person


def _record_version(person: Person, *, version: int, method: str) -> Resource:
    from joinedup.fhir.providers import meta

    body = mapping.patient_to_fhir(person)
    body["meta"] = meta(version, person.updated_at, mapping.UK_CORE + "Patient")
    resource = Resource("Patient", str(person.id), body, version, person.updated_at, person.id)
    versions.store(resource, method=method)
    return resource


# -- clients and tokens


@dataclass(frozen=True)
class IssuedToken:
    token: str
    scopes: str
    expires_in: int


@transaction.atomic
def token_issue(
    *,
    user: User,
    scopes: str,
    patient_id: uuid.UUID | None = None,
    client: ApiClient | None = None,
    lifetime: timedelta | None = None,
    issued_by: User | None = None,
) -> IssuedToken:
    """A bearer token for ``user`` with ``scopes``; only its hash is stored."""
    parsed = auth.parse_scopes(scopes)
    auth.check_scopes_for(scopes=parsed, client=client is not None, patient=patient_id is not None)
    if not user.is_active:
        raise InvalidInput("the account is disabled", where="user")
    lifetime = lifetime or (TOKEN_LIFETIME if client else USER_TOKEN_LIFETIME)
    raw = auth.new_token()
    AccessToken.objects.create(
        token_hash=auth.token_hash(raw),
        user=user,
        client=client,
        scopes=" ".join(scopes.split()),
        patient_id=patient_id,
        expires_at=timezone.now() + lifetime,
    )
    audit_record(
        actor=issued_by or user,
        action=AuditAction.ADMIN,
        resource="fhir.token",
        person_id=patient_id,
        reason=f"token issued to {user.username}"
        + (f" for client {client.client_id}" if client else "")
        + f": {' '.join(scopes.split())}",
    )
    return IssuedToken(raw, " ".join(scopes.split()), int(lifetime.total_seconds()))


@dataclass(frozen=True)
class RegisteredClient:
    client: ApiClient
    secret: str


@transaction.atomic
def client_register(
    *, name: str, user: User, scopes: str, registered_by: User | None = None
) -> RegisteredClient:
    """Register a system; it acts as ``user`` (its service account), within ``scopes``."""
    auth.parse_scopes(scopes)
    secret = secrets.token_urlsafe(32)
    client = ApiClient.objects.create(
        client_id=f"jdc_{secrets.token_hex(8)}",
        name=name.strip(),
        secret_hash=auth.token_hash(secret),
        user=user,
        scopes=" ".join(scopes.split()),
    )
    audit_record(
        actor=registered_by,
        action=AuditAction.ADMIN,
        resource="fhir.client",
        reason=f"client {client.client_id} registered for {user.username}",
    )
    return RegisteredClient(client, secret)


def client_token(*, client_id: str, secret: str, scopes: str) -> IssuedToken:
    """OAuth2 client credentials: a token within the client's registered scopes."""
    from joinedup.fhir.errors import InvalidToken

    client = ApiClient.objects.select_related("user").filter(client_id=client_id).first()
    if (
        client is None
        or not client.active
        or not secrets.compare_digest(client.secret_hash, auth.token_hash(secret))
    ):
        raise InvalidToken("the client id or secret is not right", where="client_id")
    allowed = set(client.scopes.split())
    asked = scopes.split() or sorted(allowed)
    beyond = [s for s in asked if s not in allowed]
    if beyond:
        raise AccessDenied(f"the client is not registered for {' '.join(beyond)}", where="scope")
    return token_issue(user=client.user, scopes=" ".join(asked), client=client)


@transaction.atomic
def token_revoke(*, token: str, revoked_by: User | None = None) -> bool:
    found = AccessToken.objects.filter(token_hash=auth.token_hash(token), revoked_at=None).first()
    if found is None:
        return False
    found.revoked_at = timezone.now()
    found.save(update_fields=["revoked_at"])
    audit_record(
        actor=revoked_by, action=AuditAction.ADMIN, resource="fhir.token", reason="token revoked"
    )
    return True
