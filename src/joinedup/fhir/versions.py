"""The versions of resources written through FHIR (``ResourceVersion``), for every type.

The domain's rows stay the source of truth; a version keeps the body one FHIR write left,
so ``vread`` and ``_history`` can return what a client saw. A resource's current version
is its newest stored version, or one more when its row changed after that outside FHIR
(on a web page, by a feed); a row never written through FHIR is version 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from joinedup.fhir.errors import PreconditionFailed
from joinedup.fhir.models import ResourceVersion
from joinedup.record.writes import FeedOwned

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from joinedup.fhir.providers import Resource

# Versions are read only for resources the caller has already been allowed to read.
_PURPOSE = "fhir versions of an opened resource"


def newest(resource_type: str, logical_ids: Iterable[str]) -> dict[str, tuple[int, datetime]]:
    """The newest stored (version, lastUpdated) of each of these resources that has one."""
    ids = list(logical_ids)
    if not ids:
        return {}
    rows = (
        ResourceVersion.objects.for_system(_PURPOSE)
        .filter(resource_type=resource_type, logical_id__in=ids)
        .values_list("logical_id", "version", "last_updated")
    )
    out: dict[str, tuple[int, datetime]] = {}
    for logical_id, version, last_updated in rows:
        if logical_id not in out or version > out[logical_id][0]:
            out[logical_id] = (version, last_updated)
    return out


def current_version(stored: tuple[int, datetime] | None, changed_at: datetime | None) -> int:
    """The stored version, or one more when the row changed after it outside FHIR."""
    if stored is None:
        return 1
    version, last_updated = stored
    return version + 1 if changed_at is not None and changed_at > last_updated else version


def history(resource_type: str, logical_id: str) -> list[Resource]:
    """The stored versions of one resource, newest first."""
    from joinedup.fhir.providers import Resource

    rows = (
        ResourceVersion.objects.for_system(_PURPOSE)
        .filter(resource_type=resource_type, logical_id=logical_id)
        .order_by("-version")
    )
    return [
        Resource(resource_type, logical_id, row.body, row.version, row.last_updated, row.person_id)
        for row in rows
    ]


def is_stored(resource: Resource) -> bool:
    return (
        ResourceVersion.objects.for_system(_PURPOSE)
        .filter(
            resource_type=resource.resource_type,
            logical_id=resource.logical_id,
            version=resource.version,
        )
        .exists()
    )


def store(resource: Resource, *, method: str) -> None:
    """Keep ``resource`` as its version; 412 when another write took that version first."""
    try:
        with transaction.atomic():
            ResourceVersion.objects.create(
                resource_type=resource.resource_type,
                logical_id=resource.logical_id,
                version=resource.version,
                last_updated=resource.last_updated,
                method=method,
                person_id=resource.person_id,
                body=resource.body,
            )
    except IntegrityError:
        raise PreconditionFailed(
            "someone else changed this resource at the same moment: read it again",
            where="If-Match",
        ) from None


def require_current(resource: Resource, if_match: int | None) -> None:
    """An update that names a version (``If-Match``) must name the current one."""
    if if_match is not None and if_match != resource.version:
        raise PreconditionFailed(
            f"the current version is {resource.version}, not {if_match}: read it again",
            where="If-Match",
        )


def newest_bodies(resource_type: str, logical_ids: Iterable[str]) -> dict[str, ResourceVersion]:
    """The newest stored version, body and all, of each of these resources that has one."""
    ids = list(logical_ids)
    if not ids:
        return {}
    rows = ResourceVersion.objects.for_system(_PURPOSE).filter(
        resource_type=resource_type, logical_id__in=ids
    )
    out: dict[str, ResourceVersion] = {}
    for row in rows:
        if row.logical_id not in out or row.version > out[row.logical_id].version:
            out[row.logical_id] = row
    return out


def created_here(resource_type: str, logical_id: str) -> bool:
    """Whether the resource was made by a create through this API (its version 1 was
    stored by a POST). Every other reference row came from a feed or the register."""
    return (
        ResourceVersion.objects.for_system(_PURPOSE)
        .filter(resource_type=resource_type, logical_id=logical_id, version=1, method="POST")
        .exists()
    )


def require_created_here(resource_type: str, logical_id: str, source: str) -> None:
    """Refuse (409) an update of a resource that ``source`` owns."""
    if not created_here(resource_type, logical_id):
        raise FeedOwned(
            f"{resource_type}/{logical_id} comes from {source}, which stays authoritative "
            "for it: correct it there",
            where=f"{resource_type}.id",
        )
