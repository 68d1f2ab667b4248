"""The audit trail: append-only events linked in a SHA-256 hash chain.

Every read and write of person-level data, every denial, break-glass, sign-in
and administrative act writes one event here, inside the same transaction as
the act, so nothing happens unaudited. Each event's hash covers its content and
the previous event's hash, so editing or removing any event breaks the chain
from that point on, and ``verify_chain`` finds it.

This module must never record names, NHS numbers or clinical content: events
name the person only by the record's opaque UUID.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from joinedup.core import context
from joinedup.core.models import AuditAction, AuditChainHead, AuditEvent

GENESIS = "0" * 64
_HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "actor_organisation",
    "person_id",
    "action",
    "resource",
    "outcome",
    "reason",
    "channel",
    "request_id",
    "prev_hash",
)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash, in a fixed canonical form."""
    values: list[object] = []
    for name in _HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif isinstance(value, uuid.UUID):
            value = str(value)
        values.append(value)
    payload = json.dumps(values, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: object | None,
    action: AuditAction,
    resource: str,
    person_id: uuid.UUID | None = None,
    outcome: str = "allowed",
    reason: str = "",
) -> AuditEvent:
    """Append one event to the chain; the chain head's row lock orders concurrent writers.

    Everything that does not depend on the chain (the actor's fields, which may need a
    query for their organisation, the request's channel and id) is worked out before the
    lock is taken, so the lock is held only to read the head, hash, insert and move the
    head: on SQLite that lock is the database's one write lock.
    """
    fields = {
        "person_id": person_id,
        "action": action,
        "resource": resource,
        "outcome": outcome,
        "reason": reason,
        "channel": context.channel.get(),
        "request_id": context.request_id.get(),
        **_actor_fields(actor),
    }
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS, "length": 0}
        )
        event = AuditEvent(occurred_at=timezone.now(), prev_hash=head.last_hash, **fields)
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.last_hash = event.hash
        head.length += 1
        head.save(update_fields=["last_hash", "length"])
    return event


def _actor_fields(actor: Any) -> dict[str, object]:
    if actor is None or getattr(actor, "pk", None) is None:
        return {
            "actor_id": None,
            "actor_username": f"system:{getpass.getuser()}",
            "actor_role": "",
            "actor_organisation": "",
        }
    organisation = getattr(actor, "organisation", None)
    return {
        "actor_id": actor.pk,
        "actor_username": actor.username,
        "actor_role": getattr(actor, "role", ""),
        "actor_organisation": organisation.ods_code if organisation is not None else "",
    }


@dataclass(frozen=True)
class ChainReport:
    events: int
    head: str
    broken_at: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(*, chunk_size: int = 5000) -> ChainReport:
    """Recompute every hash in order; report the first event that does not fit."""
    expected_prev = GENESIS
    count = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if event.prev_hash != expected_prev:
            return ChainReport(count, expected_prev, event.pk, "an earlier event was removed")
        if event_hash(event) != event.hash:
            return ChainReport(count, expected_prev, event.pk, "the event was altered")
        expected_prev = event.hash
        count += 1
    head = AuditChainHead.objects.filter(id=1).first()
    recorded = head.last_hash if head else GENESIS
    length = head.length if head else 0
    if (recorded, length) != (expected_prev, count):
        return ChainReport(count, expected_prev, None, "events at the end of the chain are missing")
    return ChainReport(count, expected_prev, None, None)
