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

from django.db import connection, transaction
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
    payload = _payload_before_prev_hash(event) + event.prev_hash + _PAYLOAD_END
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# The canonical form is a compact JSON list of the hashed fields, the previous hash last: so it
# is the event's own fields, then the previous hash (hex, nothing to escape), then `"]`.
_PAYLOAD_END = '"]'


def _payload_before_prev_hash(event: AuditEvent) -> str:
    values: list[object] = []
    for name in _HASHED_FIELDS[:-1]:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        elif isinstance(value, uuid.UUID):
            value = str(value)
        values.append(value)
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)[:-1] + ',"'


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
    if connection.vendor == "postgresql":
        event = _append_in_one_statement(fields)
        if event is not None:
            return event
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            id=1, defaults={"last_hash": GENESIS, "length": 0}
        )
        event = AuditEvent(occurred_at=timezone.now(), prev_hash=head.last_hash, **fields)
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.prev_hash = head.last_hash
        head.last_hash = event.hash
        head.length += 1
        head.save(update_fields=["prev_hash", "last_hash", "length"])
    return event


def _append_in_one_statement(fields: dict[str, object]) -> AuditEvent | None:
    """PostgreSQL: move the head and insert the event in one statement, one round trip.

    The UPDATE locks the head row as the ORM path's SELECT FOR UPDATE does, and computes
    the new hash from the head it locked (``sha256`` over the same canonical payload that
    ``event_hash`` builds, the locked previous hash spliced in), so concurrent appends
    still form one chain and ``verify_chain`` recomputes every hash in Python. A writer
    that had to wait re-reads the head that the one before it committed, as any
    ``UPDATE ... SET n = n + 1`` does. None when there is no head yet (the first event
    ever), which the ORM path creates.
    """
    event = AuditEvent(occurred_at=timezone.now(), prev_hash="", **fields)
    prefix = _payload_before_prev_hash(event).encode("utf-8")
    with connection.cursor() as cursor:
        cursor.execute(
            _ONE_STATEMENT_SQL,
            [prefix, _PAYLOAD_END.encode("utf-8")]
            + [getattr(event, name) for name in _INSERTED_FIELDS],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    event.pk, event.prev_hash, event.hash = row
    event._state.adding = False
    event._state.db = connection.alias
    return event


_INSERTED_FIELDS = _HASHED_FIELDS[:-1]
_ONE_STATEMENT_SQL = """
WITH head AS (
    UPDATE core_auditchainhead
       SET prev_hash = last_hash,
           last_hash = encode(
               sha256(%s::bytea || convert_to(last_hash, 'UTF8') || %s::bytea), 'hex'
           ),
           length = length + 1
     WHERE id = 1
    RETURNING prev_hash, last_hash
)
INSERT INTO core_auditevent ({columns}, prev_hash, hash)
SELECT {values}, head.prev_hash, head.last_hash FROM head
RETURNING id, prev_hash, hash
""".format(  # noqa: S608 - column names are the model's own, values are parameters
    columns=", ".join(_INSERTED_FIELDS),
    values=", ".join(["%s"] * len(_INSERTED_FIELDS)),
)


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
