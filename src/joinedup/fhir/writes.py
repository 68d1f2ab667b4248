"""Clinical writes through the FHIR API: create and update of the fact-backed types
(``mapping.WRITABLE_TYPES``), kept as record facts by ``record.writes`` (ADR 24).

Each write checks the token's scope and the caller's role, reads the body back to the
fact's columns (``mapping.fact_fields``: anything the record could not give back as sent
is refused, 422, naming the element), checks that the subject is a Patient the caller may
see (a stranger's is refused, 403, and the refusal audited as a read's is), and then, in
one transaction, writes the fact, stores the version (``ResourceVersion``, for vread and
``_history``) and audits the write. An update must name the current version in
``If-Match`` if it names one (else 412), may change only facts written through the API by
the caller's organisation (a feed's fact: 409; another organisation's: 403, audited), and
cannot move a record to another Patient.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from django.db import transaction

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation
from joinedup.core.roles import Permission
from joinedup.errors import AccessDenied, InvalidInput, NotFound
from joinedup.fhir import domain, mapping, versions
from joinedup.fhir.errors import PreconditionFailed, Unprocessable
from joinedup.fhir.providers import JSON, Context, Resource, meta
from joinedup.record import writes as record_writes
from joinedup.record.models import Fact

if TYPE_CHECKING:
    pass

_VERSIONS = "fhir versions of facts written through the API"
# Where a resource names the organisation kept as the fact's organisation.
_ORGANISATION_ELEMENT = {
    "Encounter": "Encounter.serviceProvider",
    "Immunization": "Immunization.performer[0].actor",
}


def fact_create(*, ctx: Context, resource_type: str, body: JSON) -> Resource:
    """A new fact from a resource about a Patient the caller cares for (version 1)."""
    ctx.grant.require(resource_type, "c")
    writer = _writer(ctx)
    fields = mapping.fact_fields(resource_type, body, organisation=writer.organisation)
    _check_organisation(resource_type, fields.organisation)
    person_id = person_written_about(ctx, resource_type, fields.subject)
    received = record_writes.Received(_canonical(body), f"{resource_type}/{{id}}/_history/1")
    with transaction.atomic():
        fact = record_writes.fact_create(
            writer=writer, person_id=person_id, values=fields, received=received
        )
        resource = _store(resource_type, fact, version=1, method="POST")
        audit_record(
            actor=ctx.user,
            action=AuditAction.CREATE,
            resource=f"fhir.{resource_type}",
            person_id=person_id,
            reason=f"{resource_type}/{fact.pk} version 1",
        )
    return resource


def fact_update(
    *, ctx: Context, resource_type: str, logical_id: str, body: JSON, if_match: int | None
) -> Resource:
    """Replace a fact the caller's organisation wrote through the API; the next version."""
    ctx.grant.require(resource_type, "u")
    writer = _writer(ctx)
    if body.get("id") != logical_id:
        raise InvalidInput(
            "the resource's id must match the id in the URL", where=f"{resource_type}.id"
        )
    current = _current(ctx, resource_type, logical_id)
    try:
        record_writes.check_writable(current, writer)
    except AccessDenied as exc:
        _audit_denied(ctx, resource_type, exc.detail)
        raise
    stored = versions.newest(resource_type, [logical_id]).get(logical_id)
    version = stored[0] if stored else 1
    if if_match is not None and if_match != version:
        raise PreconditionFailed(
            f"the current version is {version}, not {if_match}: read it again", where="If-Match"
        )
    fields = mapping.fact_fields(
        resource_type, body, logical_id=logical_id, organisation=writer.organisation
    )
    _check_organisation(resource_type, fields.organisation)
    person_id = current.identity.person_id
    if fields.subject != str(person_id):
        element = mapping.SUBJECT_ELEMENT.get(resource_type, "subject")
        raise Unprocessable(
            "a record cannot move to another Patient: write a new one (and mark this one "
            "entered-in-error)",
            where=f"{resource_type}.{element}",
        )
    received = record_writes.Received(
        _canonical(body), f"{resource_type}/{{id}}/_history/{version + 1}"
    )
    with transaction.atomic():
        fact = record_writes.fact_replace(
            writer=writer, fact_id=current.pk, values=fields, received=received
        )
        resource = _store(resource_type, fact, version=version + 1, method="PUT")
        audit_record(
            actor=ctx.user,
            action=AuditAction.UPDATE,
            resource=f"fhir.{resource_type}",
            person_id=person_id,
            reason=f"{resource_type}/{fact.pk} version {version + 1}",
        )
    return resource


# -- the steps


def _writer(ctx: Context) -> record_writes.Writer:
    if not ctx.user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    return record_writes.writer_of(ctx.user, client_id=ctx.grant.client_id)


def _check_organisation(resource_type: str, code: str) -> None:
    if code and not Organisation.objects.filter(ods_code=code).exists():
        raise Unprocessable(
            f"there is no organisation with ODS code {code}",
            where=_ORGANISATION_ELEMENT.get(resource_type, resource_type),
        )


def person_written_about(ctx: Context, resource_type: str, logical_id: str) -> uuid.UUID:
    """The person a write is about: one the caller may see, else refused (and audited).
    ``logical_id`` is the Patient id the resource names (at its ``subject`` or ``patient``)."""
    element = f"{resource_type}.{mapping.SUBJECT_ELEMENT.get(resource_type, 'subject')}"
    try:
        person_id = uuid.UUID(logical_id)
    except ValueError:
        raise Unprocessable("there is no Patient with this id", where=element) from None
    if ctx.grant.patient_id is not None and person_id != ctx.grant.patient_id:
        _audit_denied(ctx, resource_type, "outside the token's patient")
        raise AccessDenied("the token opens one patient's record, and this is another's")
    if domain.person_ids_visible(ctx.user, [person_id]):
        return person_id
    if domain.person_exists(person_id):
        _audit_denied(ctx, resource_type, "no legitimate relationship")
        raise AccessDenied("you have no care relationship with the person this record is about")
    raise Unprocessable("there is no Patient with this id", where=element)


def _current(ctx: Context, resource_type: str, logical_id: str) -> Fact:
    """The fact to update, read within the caller's access (a stranger's is refused,
    audited; an id of another type, or of nothing, is not found)."""
    kinds = mapping.FACT_TYPES[resource_type]
    fact_id = int(logical_id) if logical_id.isdigit() and len(logical_id) < 18 else None
    if fact_id is None:
        raise NotFound(f"there is no {resource_type} with this id")
    found = domain.facts(ctx.user).filter(id=fact_id, kind__in=kinds)
    if ctx.grant.patient_id is not None:
        found = found.filter(identity__person_id=ctx.grant.patient_id)
    fact = found.select_related("identity").order_by().first()
    if fact is not None:
        return fact
    if domain.fact_exists(fact_id, kinds):
        _audit_denied(ctx, resource_type, "no legitimate relationship")
        raise AccessDenied("you have no care relationship with the person this record is about")
    raise NotFound(f"there is no {resource_type} with this id")


def _audit_denied(ctx: Context, resource_type: str, reason: str) -> None:
    audit_record(
        actor=ctx.user,
        action=AuditAction.DENY,
        resource=f"fhir.{resource_type}",
        outcome="denied",
        reason=reason,
    )


def _canonical(body: JSON) -> bytes:
    """The body as received, in one canonical form (sorted keys, no spaces), for the
    delivery's checksum."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _store(resource_type: str, fact: Fact, *, version: int, method: str) -> Resource:
    """The resource as the fact now reads, kept as ``version`` for vread and _history."""
    body = mapping.FACT_MAPPINGS[resource_type](fact)
    body["meta"] = meta(version, fact.received_at, None)
    person_id = fact.identity.person_id
    resource = Resource(resource_type, str(fact.pk), body, version, fact.received_at, person_id)
    versions.store(resource, method=method)
    return resource
