"""Facts written one at a time by another system through the API, with the same
provenance as a fact a feed delivered (ADR 24).

An API write is kept the way the record keeps everything else:

- the writing organisation knows the person as one ``SourceIdentity`` (source
  ``fhir-api``, source id ``<ODS code>/<person id>``), linked directly to the person the
  write names: the writer chose the person, so no linkage is needed or run;
- each write (a create, or each replacement) is one ``Delivery`` of feed ``fhir-api``,
  path ``<label>`` (e.g. ``Condition/42/_history/2``), with the SHA-256 and size of the
  body as received, status complete, one row in and one accepted;
- the fact's ``source`` is ``fhir-api``, its ``record_id`` the writing system and a
  random id, its ``organisation`` the ODS code the body named or else the writer's.

A replacement moves the fact to the new write's delivery, so the warehouse's per-delivery
watermark (``population.warehouse_build``) sees the change. Facts from a feed are never
written here: the feed is authoritative for what it sends (``FeedOwned``).

Callers check the caller's scope and audit; this module checks again that the person is
one the user may see (``visible_to``), and that only the organisation that wrote a fact
replaces it.

A writing system may also state how a fact it wrote came to be (an ``Attestation``, a
written Provenance): only about a fact its own organisation wrote through the API, and
only that organisation changes the statement afterwards. The fact itself is untouched.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from joinedup.errors import AccessDenied, Conflict, NotFound
from joinedup.people.models import LinkMethod, Person, SourceIdentity
from joinedup.record.models import Attestation, Delivery, DeliveryStatus, Fact, FactKind

if TYPE_CHECKING:
    from joinedup.core.models import User

API_SOURCE = "fhir-api"  # the feed, fact source and identity source of every API write
_SCOPE = "record: facts written through the API"
_PENDING = "pending"  # a delivery's path until its fact has an id


class FeedOwned(Conflict):
    """A fact a feed delivered: only a later delivery of that feed may change it."""

    status = 409
    code = "feed-owned"
    title = "This record comes from a source system's feed"
    fhir_code = "business-rule"


@dataclass(frozen=True)
class Writer:
    """Who writes: their organisation (ODS code) and the system, for provenance."""

    user: User
    organisation: str
    system: str  # the API client's id, or "user-<id>" for a person's own token


@dataclass(frozen=True)
class FactValues:
    """The columns of a written fact (its provenance is added here)."""

    kind: str
    occurred_at: datetime | None = None
    ended_at: datetime | None = None
    code_system: str = ""
    code: str = ""
    display: str = ""
    value: float | None = None
    value_text: str = ""
    unit: str = ""
    status: str = ""
    organisation: str = ""  # "" means the writer's own organisation
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """The body as received: its canonical bytes, for the delivery's checksum and size,
    and the delivery's path with ``{id}`` where the fact's id goes."""

    body: bytes
    path: str


def writer_of(user: User, *, client_id: str | None) -> Writer:
    """The writer behind a request: the user's (or client's service account's) organisation."""
    organisation = user.organisation.ods_code if user.organisation is not None else ""
    if not organisation:
        raise AccessDenied(
            "a write is recorded against your organisation: your account belongs to none"
        )
    return Writer(user, organisation, client_id or f"user-{user.pk}")


@transaction.atomic
def fact_create(
    *, writer: Writer, person_id: uuid.UUID, values: FactValues, received: Received
) -> Fact:
    """One new fact about a person the writer may see, with its own delivery."""
    _check_kind(values.kind)
    person = _visible_person(writer.user, person_id)
    identity = _identity(writer, person)
    delivery = _delivery(received)
    fact = Fact.objects.for_system(_SCOPE).create(
        identity=identity,
        source=API_SOURCE,
        record_id=f"{writer.system}/{uuid.uuid4().hex}"[-100:],
        delivery=delivery,
        received_at=delivery.received_at,
        **_columns(values, writer),
    )
    _name_delivery(delivery, received, fact)
    return fact


@transaction.atomic
def fact_replace(*, writer: Writer, fact_id: int, values: FactValues, received: Received) -> Fact:
    """Replace a fact this writer's organisation wrote; the new values arrive as a new
    delivery. A feed's fact is refused (``FeedOwned``), another organisation's too."""
    _check_kind(values.kind)
    fact = (
        Fact.objects.visible_to(writer.user)
        .select_for_update(of=("self",))
        .select_related("identity")
        .filter(id=fact_id)
        .first()
    )
    if fact is None:
        raise NotFound("there is no record with this id")
    check_writable(fact, writer)
    delivery = _delivery(received)
    for name, value in _columns(values, writer).items():
        setattr(fact, name, value)
    fact.delivery = delivery
    fact.received_at = delivery.received_at
    fact.save()
    _name_delivery(delivery, received, fact)
    return fact


def check_writable(fact: Fact, writer: Writer) -> None:
    """Only facts written through the API, by the writer's own organisation, change here."""
    if fact.source != API_SOURCE:
        raise FeedOwned(
            f"this record came from the {fact.source} feed, which is authoritative for it: "
            "correct it in the source system and its next delivery will carry the change",
            where="id",
        )
    if written_by(fact.identity) != writer.organisation:
        raise AccessDenied(
            "this record was written by another organisation: only a system of that "
            "organisation may change it"
        )


def written_by(identity: SourceIdentity) -> str:
    """The ODS code of the organisation an API identity belongs to ("" for a feed's)."""
    if identity.source != API_SOURCE:
        return ""
    return identity.source_id.partition("/")[0]


def _check_kind(kind: str) -> None:
    if kind not in FactKind.values:
        raise ValueError(f"{kind} is not a kind of fact")


def _visible_person(user: User, person_id: uuid.UUID) -> Person:
    person = Person.objects.visible_to(user).filter(id=person_id).first()
    if person is None:
        raise AccessDenied("you have no care relationship with the person this record is about")
    return person


def _identity(writer: Writer, person: Person) -> SourceIdentity:
    """The writer's organisation's identity for the person, made on its first write."""
    now = timezone.now()
    identity, _ = SourceIdentity.objects.for_system(_SCOPE).get_or_create(
        source=API_SOURCE,
        source_id=f"{writer.organisation}/{person.id}",
        defaults={
            # The person as the writer named them: the index's own details, so that a
            # full linkage run puts this identity with the person's other records.
            "nhs_number": person.nhs_number or "",
            "given_name": person.given_name,
            "family_name": person.family_name,
            "date_of_birth": person.date_of_birth,
            "sex": person.sex,
            "postcode": person.postcode,
            "person": person,
            "link_method": LinkMethod.WRITER,
            "delivery_id": 0,
            "received_at": now,
        },
    )
    if identity.person_id != person.id:
        # A reviewer moved this identity to another person: writes about this person
        # must not land there. The identity keeps its facts; this write is refused.
        raise Conflict(
            "your organisation's records about this person were moved to another person "
            "by a reviewer of the person index; ask them to check the link",
            where="subject",
        )
    return identity


def _delivery(received: Received) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        feed=API_SOURCE,
        path=f"{_PENDING}/{uuid.uuid4().hex}",
        sha256=hashlib.sha256(received.body).hexdigest(),
        size=len(received.body),
        received_at=now,
        finished_at=now,
        status=DeliveryStatus.COMPLETE,
        rows_in=1,
        accepted=1,
        next_line=1,
    )


def _name_delivery(delivery: Delivery, received: Received, fact: Fact) -> None:
    """The delivery's path, now the fact has an id; the identity's latest delivery."""
    delivery.path = received.path.format(id=fact.pk)[:300]
    delivery.save(update_fields=["path"])
    SourceIdentity.objects.for_system(_SCOPE).filter(id=fact.identity_id).update(
        delivery_id=delivery.pk, received_at=delivery.received_at
    )


def _columns(values: FactValues, writer: Writer) -> dict[str, Any]:
    return {
        "kind": values.kind,
        "occurred_at": values.occurred_at,
        "ended_at": values.ended_at,
        "code_system": values.code_system,
        "code": values.code,
        "display": values.display,
        "value": values.value,
        "value_text": values.value_text,
        "unit": values.unit,
        "status": values.status,
        "organisation": values.organisation or writer.organisation,
        "detail": dict(values.detail),
    }


@dataclass(frozen=True)
class AttestationValues:
    """What a statement of how a fact came to be says, as the record keeps it.

    ``activity`` and each of ``reasons`` is one coding (``system``, ``code``, ``display``);
    each agent is ``{"type": <participant type code or "">, "practitioner": <user id>}``
    or ``{"type": ..., "organisation": <ODS code>}``; each entity is ``{"role": ...,
    "reference": ..., "display": ...}`` (empty strings where the writer gave none).
    """

    target_type: str
    recorded: datetime
    occurred_at: datetime | None = None
    activity: dict[str, str] = field(default_factory=dict)
    agents: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)
    entities: list[dict[str, str]] = field(default_factory=list)


@transaction.atomic
def attestation_create(*, writer: Writer, fact_id: int, values: AttestationValues) -> Attestation:
    """A new statement about a fact the writer's organisation wrote through the API."""
    fact = _attested_fact(writer, fact_id)
    now = timezone.now()
    return Attestation.objects.for_system(_SCOPE).create(
        fact=fact,
        organisation=writer.organisation,
        system=writer.system[:100],
        created_at=now,
        updated_at=now,
        **_statement(values),
    )


@transaction.atomic
def attestation_replace(
    *, writer: Writer, attestation_id: int, values: AttestationValues
) -> Attestation:
    """Replace a statement the writer's organisation made; its fact stays the same."""
    attestation = (
        Attestation.objects.visible_to(writer.user)
        .select_for_update(of=("self",))
        .filter(id=attestation_id)
        .first()
    )
    if attestation is None:
        raise NotFound("there is no statement with this id")
    if attestation.organisation != writer.organisation:
        raise AccessDenied(
            "this statement was made by another organisation: only a system of that "
            "organisation may change it"
        )
    _attested_fact(writer, attestation.fact_id)
    for name, value in _statement(values).items():
        setattr(attestation, name, value)
    attestation.system = writer.system[:100]
    attestation.updated_at = timezone.now()
    attestation.save()
    return attestation


def _attested_fact(writer: Writer, fact_id: int) -> Fact:
    """The fact a statement is about: one the writer may see and its organisation wrote
    through the API (a feed's fact: ``FeedOwned``; another organisation's: refused)."""
    fact = (
        Fact.objects.visible_to(writer.user).select_related("identity").filter(id=fact_id).first()
    )
    if fact is None:
        raise AccessDenied("you have no care relationship with the person this record is about")
    if fact.source != API_SOURCE:
        raise FeedOwned(
            f"this record came from the {fact.source} feed: how it came to be is that "
            "feed's delivery, which only the feed states",
            where="target",
        )
    if written_by(fact.identity) != writer.organisation:
        raise AccessDenied(
            "this record was written by another organisation: only a system of that "
            "organisation may state how it came to be"
        )
    return fact


def _statement(values: AttestationValues) -> dict[str, Any]:
    return {
        "target_type": values.target_type,
        "recorded": values.recorded,
        "occurred_at": values.occurred_at,
        "activity": dict(values.activity),
        "agents": [dict(agent) for agent in values.agents],
        "reasons": [dict(reason) for reason in values.reasons],
        "entities": [dict(entity) for entity in values.entities],
    }
