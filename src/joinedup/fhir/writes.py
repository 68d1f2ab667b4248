"""Clinical writes through the FHIR API: create and update of the fact-backed types
(``mapping.WRITABLE_TYPES``), kept as record facts by ``record.writes`` (ADR 24).

A fact may show as more than one type (a medicine as MedicationStatement and
MedicationRequest, a safeguarding enquiry as Procedure and Flag): each write stores a
version of every type that shows it, so they share one version number and history.
A safeguarding Flag is written only by a social worker (children's social care decides
child protection plans); a lab report's results must be Observations the same
organisation wrote about the same Patient (a report's results resolve within one
source's records, ADR 18).

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
from dataclasses import replace

from django.db import transaction

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, Organisation
from joinedup.core.roles import Permission, Role
from joinedup.errors import AccessDenied, InvalidInput, NotFound
from joinedup.fhir import domain, mapping, versions
from joinedup.fhir.errors import PreconditionFailed, Unprocessable
from joinedup.fhir.providers import (
    JSON,
    Context,
    ModelProvider,
    Resource,
    audit_denied,
    provider_for,
)
from joinedup.record import writes as record_writes
from joinedup.record.models import Fact

# Types only some roles may write: whether a child is on a protection plan or in need is
# the council's decision, recorded by its social workers, whoever else may see the flag.
_WRITING_ROLES = {"Flag": frozenset({Role.SOCIAL_WORKER})}


def fact_create(*, ctx: Context, resource_type: str, body: JSON) -> Resource:
    """A new fact from a resource about a Patient the caller cares for (version 1)."""
    ctx.grant.require(resource_type, "c")
    writer = _writer(ctx, resource_type)
    fields = mapping.fact_fields(resource_type, body, organisation=writer.organisation)
    _check_organisation(resource_type, fields.organisation)
    person_id = person_written_about(ctx, resource_type, fields.subject)
    fields = _with_results(ctx, writer, person_id, fields)
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
    writer = _writer(ctx, resource_type)
    if body.get("id") != logical_id:
        raise InvalidInput(
            "the resource's id must match the id in the URL", where=f"{resource_type}.id"
        )
    current = _current(ctx, resource_type, logical_id)
    try:
        record_writes.check_writable(current, writer)
    except AccessDenied as exc:
        audit_denied(ctx, resource_type, exc.detail)
        raise
    version = _version_of(current, resource_type)
    if if_match is not None and if_match != version:
        raise PreconditionFailed(
            f"the current version is {version}, not {if_match}: read it again", where="If-Match"
        )
    fields = mapping.fact_fields(
        resource_type, body, logical_id=logical_id, organisation=writer.organisation
    )
    _check_organisation(resource_type, fields.organisation)
    if resource_type not in mapping.ORGANISATION_ELEMENT:  # this type does not show it
        fields = replace(fields, organisation=current.organisation)
    person_id = current.identity.person_id
    if fields.subject != str(person_id):
        element = mapping.SUBJECT_ELEMENT.get(resource_type, "subject")
        raise Unprocessable(
            "a record cannot move to another Patient: write a new one (and mark this one "
            "entered-in-error)",
            where=f"{resource_type}.{element}",
        )
    _check_same_type(current, fields, resource_type)
    fields = _with_results(ctx, writer, person_id, fields)
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


def _writer(ctx: Context, resource_type: str) -> record_writes.Writer:
    if not ctx.user.has_role_permission(Permission.VIEW_PERSON):
        raise AccessDenied("your role does not give access to care records")
    roles = _WRITING_ROLES.get(resource_type)
    if roles is not None and ctx.user.role not in roles:
        audit_denied(ctx, resource_type, f"{resource_type} is written by other roles")
        names = ", ".join(str(Role(role).label).lower() for role in sorted(roles))
        raise AccessDenied(f"a {resource_type} is written by a {names}, not your role")
    return record_writes.writer_of(ctx.user, client_id=ctx.grant.client_id)


def _check_organisation(resource_type: str, code: str) -> None:
    if code and not Organisation.objects.filter(ods_code=code).exists():
        raise Unprocessable(
            f"there is no organisation with ODS code {code}",
            where=mapping.ORGANISATION_ELEMENT.get(resource_type, resource_type),
        )


def _check_same_type(current: Fact, fields: mapping.FactFields, resource_type: str) -> None:
    """An update keeps the resource type that owns the fact (an Encounter may change its
    class; a safeguarding enquiry, a Procedure, does not become a child's Flag)."""
    own = mapping.TYPE_OF_KIND.get(current.kind)
    if own != mapping.TYPE_OF_KIND.get(fields.kind):
        kept_as = f"{own}/{current.pk}" if own else current.get_kind_display()
        raise Unprocessable(
            f"this record is kept as {kept_as}: update it as that, or write a new one",
            where=resource_type,
        )


def _version_of(fact: Fact, resource_type: str) -> int:
    """The fact's current version: the newest stored by any type that shows it."""
    logical_id = str(fact.pk)
    shown = {resource_type, *mapping.views_of(fact.kind, fact.display)}
    stored = [versions.newest(view, [logical_id]).get(logical_id) for view in sorted(shown)]
    return max((found[0] for found in stored if found), default=1)


def _with_results(
    ctx: Context,
    writer: record_writes.Writer,
    person_id: uuid.UUID | None,
    fields: mapping.FactFields,
) -> mapping.FactFields:
    """A report's results as the record keeps them: the Observations' record ids, found
    among the Observations the writer's organisation wrote about the same person."""
    results = {k: str(fields.detail[k]) for k in mapping.REPORT_RESULT_KEYS if k in fields.detail}
    if fields.kind != "diagnostic_report" or not results:
        return fields
    ids = [int(v) for v in results.values() if len(v) < 18]
    found = dict(
        domain.facts(ctx.user)
        .filter(
            id__in=ids,
            kind="observation",
            identity__source=record_writes.API_SOURCE,
            identity__source_id=f"{writer.organisation}/{person_id}",
        )
        .values_list("id", "record_id")
    )
    detail = dict(fields.detail)
    for index, (key, value) in enumerate(results.items()):
        record = found.get(int(value)) if len(value) < 18 else None
        if record is None:
            raise Unprocessable(
                "a result must be an Observation your organisation wrote through this API "
                "about the same Patient (a report's results are kept within one source's "
                "records)",
                where=f"DiagnosticReport.result[{index}]",
            )
        detail[key] = record
    return replace(fields, detail=detail)


def person_written_about(ctx: Context, resource_type: str, logical_id: str) -> uuid.UUID:
    """The person a write is about: one the caller may see, else refused (and audited).
    ``logical_id`` is the Patient id the resource names (at its ``subject`` or ``patient``)."""
    element = f"{resource_type}.{mapping.SUBJECT_ELEMENT.get(resource_type, 'subject')}"
    try:
        person_id = uuid.UUID(logical_id)
    except ValueError:
        raise Unprocessable("there is no Patient with this id", where=element) from None
    if ctx.grant.patient_id is not None and person_id != ctx.grant.patient_id:
        audit_denied(ctx, resource_type, "outside the token's patient")
        raise AccessDenied("the token opens one patient's record, and this is another's")
    if domain.person_ids_visible(ctx.user, [person_id]):
        return person_id
    if domain.person_exists(person_id):
        audit_denied(ctx, resource_type, "no legitimate relationship")
        raise AccessDenied("you have no care relationship with the person this record is about")
    raise Unprocessable("there is no Patient with this id", where=element)


def _current(ctx: Context, resource_type: str, logical_id: str) -> Fact:
    """The fact to update, read within the caller's access (a stranger's is refused,
    audited; an id of another type, or of nothing, is not found)."""
    kinds = mapping.kinds_of(resource_type)
    fact_id = int(logical_id) if logical_id.isdigit() and len(logical_id) < 18 else None
    if fact_id is None:
        raise NotFound(f"there is no {resource_type} with this id")
    found = domain.facts(ctx.user).filter(id=fact_id, kind__in=kinds)
    if resource_type == "Flag":
        found = found.filter(display__in=mapping.SAFEGUARDING_TITLES)
    if ctx.grant.patient_id is not None:
        found = found.filter(identity__person_id=ctx.grant.patient_id)
    fact = found.select_related("identity").order_by().first()
    if fact is not None:
        return fact
    if domain.fact_exists(fact_id, kinds):
        audit_denied(ctx, resource_type, "no legitimate relationship")
        raise AccessDenied("you have no care relationship with the person this record is about")
    raise NotFound(f"there is no {resource_type} with this id")


def _canonical(body: JSON) -> bytes:
    """The body as received, in one canonical form (sorted keys, no spaces), for the
    delivery's checksum."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _store(resource_type: str, fact: Fact, *, version: int, method: str) -> Resource:
    """The resource as the fact now reads (as its provider renders it), kept as
    ``version`` for vread and _history, with the same version of every other type that
    shows the fact."""
    others = set(mapping.views_of(fact.kind, fact.display)) - {resource_type}
    written = _stored_as(resource_type, fact, version=version, method=method)
    for view in sorted(others):
        _stored_as(view, fact, version=version, method=method)
    return written


def _stored_as(resource_type: str, fact: Fact, *, version: int, method: str) -> Resource:
    provider = provider_for(resource_type)
    if not isinstance(provider, ModelProvider):
        raise TypeError(f"{resource_type} is not served from the record's rows")
    resource = provider.render_rows([fact])[0]
    resource.body["meta"]["versionId"] = str(version)
    resource = replace(resource, version=version)
    versions.store(resource, method=method)
    return resource
