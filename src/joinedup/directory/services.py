"""Writes to the directory: importing a feed, reviewing or editing a service, loading
postcodes.

Each write is atomic and audited. An import stores each service in its own savepoint, so
one record the database refuses is kept back with its reason instead of undoing the rest;
every record read is either stored or kept back (``ImportProblem``), never dropped.
A feed is authoritative for the services it sends: their nested records are replaced by
what the feed holds now. Shared records (organisations, locations, terms) are merged:
a field the feed leaves empty does not wipe one another feed filled in.
"""

from __future__ import annotations

import csv
import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction, User
from joinedup.core.roles import Permission
from joinedup.directory import feeds, forms, geo
from joinedup.directory.models import (
    Accessibility,
    Address,
    Attribute,
    Contact,
    CostOption,
    Funding,
    ImportBatch,
    ImportProblem,
    Language,
    Location,
    LocationType,
    Organization,
    OrganizationIdentifier,
    Postcode,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from joinedup.directory.selectors import can_review, service_schedules
from joinedup.errors import AccessDenied, Conflict, InvalidInput, NotFound

M = TypeVar("M", bound=models.Model)
CHILDREN: dict[str, type[models.Model]] = {
    "service_areas": ServiceArea,
    "languages": Language,
    "funding": Funding,
    "cost_options": CostOption,
    "contacts": Contact,
}


@dataclass(frozen=True)
class ImportSummary:
    batch_id: int
    read: int
    services: int
    accepted: int
    rejected: int
    warnings: int

    def one_line(self) -> str:
        return (
            f"import {self.batch_id}: {self.read:,} records read, {self.accepted:,} stored "
            f"({self.services:,} services), {self.rejected:,} kept back, "
            f"{self.warnings:,} warnings"
        )


def _merge(model: type[M], fields: dict[str, Any]) -> M:
    """Create the row, or fill in the fields this feed has a value for."""
    values = {k: v for k, v in fields.items() if k != "id"}
    row = model._default_manager.filter(pk=fields["id"]).first()
    if row is None:
        return model._default_manager.create(id=fields["id"], **values)
    changed = [k for k, v in values.items() if v not in (None, "") and getattr(row, k) != v]
    for key in changed:
        setattr(row, key, values[key])
    if changed:
        row.save(update_fields=changed)
    return row


def _replace(model: type[M], rows: Iterable[dict[str, Any]], **owner: Any) -> set[uuid.UUID]:
    """Make ``owner``'s rows exactly ``rows`` (by id); returns the ids kept."""
    ids: set[uuid.UUID] = set()
    for fields in rows:
        values = {k: v for k, v in fields.items() if k != "id"}
        model._default_manager.update_or_create(id=fields["id"], defaults={**values, **owner})
        ids.add(fields["id"])
    model._default_manager.filter(**owner).exclude(id__in=ids).delete()
    return ids


def _term(record: feeds.TermRecord) -> TaxonomyTerm:
    return _merge(TaxonomyTerm, record.fields)


def _attribute(record: feeds.AttributeRecord) -> None:
    _term(record.term)
    fields = dict(record.fields)
    Attribute.objects.update_or_create(id=fields.pop("id"), defaults=fields)


def _service_store(record: feeds.ServiceRecord, *, source: str) -> Service:
    fields = dict(record.fields)
    if record.organization is not None:
        _merge(Organization, record.organization.fields)
        for ident in record.organization.identifiers:
            OrganizationIdentifier.objects.update_or_create(
                id=ident["id"],
                defaults={
                    **{k: v for k, v in ident.items() if k != "id"},
                    "organization_id": record.organization.fields["id"],
                },
            )
    elif (
        fields.get("organization_id")
        and not Organization.objects.filter(pk=fields["organization_id"]).exists()
    ):
        raise IntegrityError(f"organization_id {fields['organization_id']} is not in the feed")
    fields["last_modified"] = fields.get("last_modified") or timezone.now()
    sid = fields.pop("id")
    service, _ = Service.objects.update_or_create(id=sid, defaults={**fields, "source": source})
    for key, model in CHILDREN.items():
        _replace(model, record.children[key], service=service)
    sal_ids = set()
    for place in record.locations:
        location = _merge(Location, place.fields)
        _replace(Address, place.addresses, location=location)
        _replace(Accessibility, place.accessibility, location=location)
        ServiceAtLocation.objects.update_or_create(
            id=place.sal_id, defaults={"service": service, "location": location}
        )
        sal_ids.add(place.sal_id)
    ServiceAtLocation.objects.filter(service=service).exclude(id__in=sal_ids).delete()
    schedules = [
        {
            **s,
            "service_at_location_id": s["service_at_location_id"]
            if s["service_at_location_id"] in sal_ids
            else None,
        }
        for s in record.children["schedules"]
    ]
    _replace(Schedule, schedules, service=service)
    linked = [a.fields["id"] for a in record.attributes]
    Attribute.objects.filter(link_id=sid).exclude(id__in=linked).delete()
    for attribute in record.attributes:
        _attribute(attribute)
    return service


def _taxonomy_store(record: feeds.TaxonomyRecord) -> None:
    _merge(Taxonomy, record.fields)
    for term in record.terms:
        _term(term)


def _keep_back(batch: ImportBatch, problem: feeds.Problem) -> None:
    ImportProblem.objects.create(
        batch=batch,
        where=problem.where[:200],
        entity=problem.entity[:40],
        kept_back=problem.kept_back,
        reasons=problem.reasons,
        raw=problem.raw,
    )


def _stored(batch: ImportBatch, where: str, entity: str, raw: str, store: Any) -> bool:
    """Run one record's writes in a savepoint; a refusal is kept back with its reason."""
    try:
        with transaction.atomic():
            store()
    except (IntegrityError, DatabaseError, ValueError) as exc:
        _keep_back(
            batch,
            feeds.Problem(where, entity, [f"the database refused it: {exc}"[:300]], raw),
        )
        return False
    return True


def feed_import(
    *, feed: feeds.Feed, source: str, filename: str, user: User | None = None
) -> ImportSummary:
    """Store a read feed: every record stored or kept back, the batch audited."""
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            source=source[:100], filename=filename[:255], imported_by=user
        )
        for problem in feed.problems:
            _keep_back(batch, problem)
        refused = 0
        stored_services = 0
        for taxonomy in feed.taxonomies:
            ok = _stored(
                batch, taxonomy.where, "taxonomy", "", lambda t=taxonomy: _taxonomy_store(t)
            )
            refused += not ok
        for term in feed.terms:
            refused += not _stored(batch, "term", "taxonomy_term", "", lambda t=term: _term(t))
        for org in feed.organizations:
            refused += not _stored(
                batch,
                "organization",
                "organization",
                "",
                lambda o=org: _merge(Organization, o.fields),
            )
        for attribute in feed.attributes:
            refused += not _stored(
                batch, "attribute", "attribute", "", lambda a=attribute: _attribute(a)
            )
        for record in feed.services:
            ok = _stored(
                batch,
                record.where,
                "service",
                record.raw,
                lambda r=record: _service_store(r, source=source),
            )
            stored_services += ok
            refused += not ok
        rejected = feed.rejected + refused
        batch.records_read = feed.read
        batch.rejected = rejected
        whole = (
            len(feed.services)
            + len(feed.taxonomies)
            + len(feed.terms)
            + len(feed.organizations)
            + len(feed.attributes)
        )
        batch.accepted = whole - refused
        batch.warnings = feed.warnings
        batch.save(update_fields=["records_read", "rejected", "accepted", "warnings"])
        summary = ImportSummary(
            batch.pk, feed.read, stored_services, batch.accepted, rejected, feed.warnings
        )
        audit_record(
            actor=user,
            action=AuditAction.CREATE,
            resource="directory.import",
            reason=summary.one_line(),
        )
    return summary


def feed_import_path(*, path: Path, source: str, user: User | None = None) -> ImportSummary:
    """Read a feed file or package and store it; an unreadable feed is one clear error."""
    try:
        feed = feeds.feed_read_path(path, source=source)
    except feeds.FeedUnreadable as exc:
        raise InvalidInput(exc.detail, where=exc.where) from None
    return feed_import(feed=feed, source=source, filename=path.name, user=user)


def service_editable(*, user: User, service_id: uuid.UUID, verb: str = "edit") -> Service:
    """The service, if ``user`` may change it; a refusal is audited and raised."""
    found = Service.objects.filter(id=service_id).first()
    if found is None:
        raise NotFound("there is no service with that id", where=str(service_id))
    if not can_review(user, found):
        # Recorded outside any write's transaction, so the refusal is kept.
        audit_record(
            actor=user,
            action=AuditAction.DENY,
            resource=f"directory.service:{found.pk}",
            outcome="denied",
            reason=f"not the service's owner ({verb})",
        )
        raise AccessDenied(f"only the service's owner or an administrator can {verb} it")
    return found


def _assured_by(service: Service, user: User) -> list[str]:
    """Mark the entry checked today by ``user``; returns the fields this sets."""
    service.assured_date = timezone.localdate()
    service.assurer_email = user.email if feeds._EMAIL.match(user.email or "") else ""
    service.last_modified = timezone.now()
    return ["assured_date", "assurer_email", "last_modified"]


def service_review(*, user: User, service_id: uuid.UUID, note: str = "") -> Service:
    """The owner (or an administrator) confirms the entry is right today."""
    service_editable(user=user, service_id=service_id, verb="review")
    with transaction.atomic():
        service = Service.objects.select_for_update().get(id=service_id)
        service.save(update_fields=_assured_by(service, user))
        audit_record(
            actor=user,
            action=AuditAction.REVIEW,
            resource=f"directory.service:{service.pk}",
            reason=note[:200] or "reviewed: details confirmed",
        )
    return service


class ServiceEditConflict(Conflict):
    """Someone saved the entry after this edit began; ``service`` is their version."""

    code = "directory-service-conflict"
    title = "Someone else changed this service while you were editing it"

    def __init__(self, service: Service, schedules: list[Schedule]) -> None:
        super().__init__("the entry was saved by someone else after you opened it", where="version")
        self.service = service
        self.schedules = schedules


@dataclass(frozen=True)
class ServiceEdited:
    service: Service
    changed: list[str]  # the labels of the fields that changed, in form order


def _same_version(service: Service, version: str) -> bool:
    try:
        return datetime.fromisoformat(version) == service.last_modified
    except ValueError:
        return False


def _apply(service: Service, edit: forms.ServiceEdit) -> list[str]:
    """Copy the edit onto the row; returns the model fields that changed, in form order."""
    changed = []
    for key in forms.LABELS:  # the form's fields are the model's field names
        value = getattr(edit, key)
        if getattr(service, key) != value:
            setattr(service, key, value)
            changed.append(key)
    return changed


def _schedules_apply(service: Service, edit: forms.ServiceEdit) -> bool:
    """Save changed opening-time words; a new schedule only when words were given."""
    changed = False
    for schedule in service_schedules(service):
        words = edit.schedules.get(str(schedule.id))
        if words is not None and words != schedule.description:
            schedule.description = words
            schedule.save(update_fields=["description"])
            changed = True
    words = edit.schedules.get(forms.NEW_SCHEDULE, "")
    if words and not service_schedules(service):
        Schedule.objects.create(service=service, description=words)
        changed = True
    return changed


def service_edit(
    *,
    user: User,
    service_id: uuid.UUID,
    edit: forms.ServiceEdit,
    version: str,
    note: str = "",
) -> ServiceEdited:
    """The owner (or an administrator) corrects an entry; saving it also reviews it.

    ``version`` is the entry's ``last_modified`` when the form was opened: if the entry
    was saved since, nothing is written and ``ServiceEditConflict`` carries the saved
    version. The audit reason names the fields changed, never their values.
    """
    service_editable(user=user, service_id=service_id)
    with transaction.atomic():
        service = Service.objects.select_for_update().get(id=service_id)
        if not _same_version(service, version):
            raise ServiceEditConflict(service, service_schedules(service))
        fields = _apply(service, edit)
        labels = [forms.LABELS[f] for f in fields]
        if _schedules_apply(service, edit):
            labels.append("Opening times")
        service.save(update_fields=[*fields, *_assured_by(service, user)])
        said = f"edited: {', '.join(labels)}" if labels else "edited: no changes, details confirmed"
        audit_record(
            actor=user,
            action=AuditAction.UPDATE,
            resource=f"directory.service:{service.pk}",
            reason=f"{said}; note: {note[: forms.NOTE_LIMIT]}" if note else said,
        )
    return ServiceEdited(service, labels)


def service_owner_set(*, service_id: uuid.UUID, owner: User | None, by: User | None) -> None:
    """Give a service an owner, who is then asked to review it every 3 months."""
    updated = Service.objects.filter(id=service_id).update(owner=owner)
    if not updated:
        raise NotFound("there is no service with that id", where=str(service_id))
    audit_record(
        actor=by,
        action=AuditAction.UPDATE,
        resource=f"directory.service:{service_id}",
        reason=f"owner set to {owner.username if owner else 'nobody'}",
    )


@dataclass(frozen=True)
class PostcodeLoad:
    loaded: int
    problems: list[tuple[int, str]]


def postcodes_load(*, path: Path) -> PostcodeLoad:
    """Postcode centroids from a CSV (postcode, latitude, longitude[, lsoa_code])."""
    if not path.is_file():
        raise InvalidInput("there is no such file", where=str(path))
    rows: dict[str, Postcode] = {}
    problems: list[tuple[int, str]] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"postcode", "latitude", "longitude"} - set(reader.fieldnames or [])
        if missing:
            raise InvalidInput(
                f"the file has no {', '.join(sorted(missing))} column", where=str(path)
            )
        for line, row in enumerate(reader, start=2):
            parsed = _postcode_row(row)
            if isinstance(parsed, str):
                problems.append((line, parsed))
            else:
                rows[parsed.postcode] = parsed
    with transaction.atomic():
        Postcode.objects.bulk_create(
            list(rows.values()),
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["postcode"],
            update_fields=["latitude", "longitude", "lsoa_code"],
        )
        audit_record(
            actor=None,
            action=AuditAction.UPDATE,
            resource="directory.postcodes",
            reason=f"{len(rows):,} postcode centroids loaded, {len(problems):,} kept back",
        )
    return PostcodeLoad(len(rows), problems)


def _postcode_row(row: dict[str, str]) -> Postcode | str:
    normal = geo.postcode_normalise(row.get("postcode") or "")
    if normal is None:
        return f"postcode {row.get('postcode')!r} is not a UK postcode"
    try:
        lat, lon = float(row.get("latitude") or ""), float(row.get("longitude") or "")
    except ValueError:
        return f"{normal}: latitude and longitude must be numbers"
    if not geo.coordinates_valid(lat, lon):
        return f"{normal}: latitude {lat}, longitude {lon} are not on the globe"
    return Postcode(
        postcode=normal, latitude=lat, longitude=lon, lsoa_code=row.get("lsoa_code", "")[:12]
    )


# -- locations written by an administrator's system (the FHIR API)


class LocationFromFeed(Conflict):
    """A location where a feed's service is delivered: the feed stays authoritative."""

    code = "feed-owned"
    title = "This location comes from a directory feed"
    fhir_code = "business-rule"


@dataclass(frozen=True)
class LocationAddress:
    address_1: str
    city: str
    region: str
    state_province: str
    postal_code: str
    country: str
    address_type: str  # physical or postal


@dataclass(frozen=True)
class LocationFields:
    """What a written location holds: the ORUK location and its one address."""

    location_type: str
    name: str
    description: str = ""
    latitude: float | None = None
    longitude: float | None = None
    external_identifier: str = ""
    external_identifier_type: str = ""
    address: LocationAddress | None = None


def location_manager_require(user: User) -> None:
    """Administrators add and correct locations (as they may step in for any entry);
    a refusal is audited. Call it before the write's transaction, so the audit is kept."""
    if user.has_role_permission(Permission.MANAGE_USERS):
        return
    audit_record(
        actor=user,
        action=AuditAction.DENY,
        resource="directory.location",
        outcome="denied",
        reason="not an administrator",
    )
    raise AccessDenied("only an administrator can add or change directory locations")


def _location_check(fields: LocationFields) -> None:
    if fields.location_type not in LocationType.values:
        raise InvalidInput("a location is physical, postal or virtual", where="location_type")
    if (fields.latitude is None) != (fields.longitude is None) or (
        fields.latitude is not None and not geo.coordinates_valid(fields.latitude, fields.longitude)
    ):
        raise InvalidInput("give a latitude and longitude on the globe", where="position")


def _location_store(location: Location, fields: LocationFields) -> None:
    for key in (
        "location_type",
        "name",
        "description",
        "latitude",
        "longitude",
        "external_identifier",
        "external_identifier_type",
    ):
        setattr(location, key, getattr(fields, key))
    location.save()
    Address.objects.filter(location=location).delete()
    if fields.address is not None:
        Address.objects.create(location=location, **dataclasses.asdict(fields.address))


def location_create(*, user: User, fields: LocationFields) -> Location:
    """A place where services may be delivered, added outside any feed (audited)."""
    location_manager_require(user)
    _location_check(fields)
    with transaction.atomic():
        location = Location()
        _location_store(location, fields)
        audit_record(
            actor=user, action=AuditAction.CREATE, resource=f"directory.location:{location.pk}"
        )
    return location


def location_update(*, user: User, location_id: uuid.UUID, fields: LocationFields) -> Location:
    """Correct a location added outside the feeds; one a feed's service is delivered at is
    the feed's (``LocationFromFeed``), as ADR 17 keeps feeds authoritative."""
    location_manager_require(user)
    _location_check(fields)
    with transaction.atomic():
        location = Location.objects.select_for_update().filter(id=location_id).first()
        if location is None:
            raise NotFound("there is no location with that id", where=str(location_id))
        if ServiceAtLocation.objects.filter(location=location).exclude(service__source="").exists():
            raise LocationFromFeed(
                "a feed's service is delivered here, so the feed keeps this location: "
                "correct it at the feed's source",
                where=str(location_id),
            )
        _location_store(location, fields)
        audit_record(
            actor=user, action=AuditAction.UPDATE, resource=f"directory.location:{location.pk}"
        )
    return location
