"""The audit trail is append-only and tamper-evident."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from typer.testing import CliRunner

from joinedup.cli import app
from joinedup.core.audit import GENESIS, audit_record, event_hash, verify_chain
from joinedup.core.models import AuditAction, AuditEvent

pytestmark = pytest.mark.django_db


def _record(count: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action=AuditAction.ADMIN, resource=f"test:{i}")
        for i in range(count)
    ]


@contextmanager
def _trigger_bypassed() -> Iterator[None]:
    """What someone with direct database rights could do: switch the guard off."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_no_change")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
    yield


def test_events_link_into_a_chain_from_genesis() -> None:
    first, second, third = _record(3)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    report = verify_chain()
    assert report.ok
    assert report.events == 3


def test_cli_verify_passes_on_an_intact_chain() -> None:
    _record(4)
    result = CliRunner().invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit chain intact: 4 events" in result.output


def test_a_row_edited_by_hand_breaks_the_chain() -> None:
    events = _record(5)
    with _trigger_bypassed(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET reason = %s WHERE id = %s", ["nothing to see", events[2].pk]
        )

    report = verify_chain()
    result = CliRunner().invoke(app, ["audit", "verify"])

    assert not report.ok
    assert report.broken_at == events[2].pk
    assert report.problem == "the event was altered"
    assert result.exit_code != 0


def test_a_row_removed_by_hand_breaks_the_chain() -> None:
    events = _record(5)
    with _trigger_bypassed(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[2].pk
    assert report.problem == "an earlier event was removed"


def test_the_newest_rows_removed_by_hand_are_noticed() -> None:
    events = _record(3)
    with _trigger_bypassed(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [events[-1].pk])
    assert verify_chain().problem == "events at the end of the chain are missing"


def test_the_database_refuses_updates() -> None:
    (event,) = _record(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = 'x' WHERE id = %s", [event.pk])


def test_the_orm_refuses_updates_and_deletes() -> None:
    (event,) = _record(1)
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="x")
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()


def _append_retrying_sqlite_lock(resource: str) -> None:
    """SQLite's shared-cache in-memory test database reports a table lock at once instead of
    waiting; only there is a locked append tried again (the database's write lock orders it)."""
    import random
    import time

    from django.db import OperationalError

    while True:
        try:
            audit_record(actor=None, action=AuditAction.ADMIN, resource=resource)
            return
        except OperationalError as exc:
            if connection.vendor != "sqlite" or "locked" not in str(exc):
                raise
            time.sleep(random.uniform(0.001, 0.01))


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_chain() -> None:
    """Writers on several connections at once: every event lands, in one unbroken chain
    (on PostgreSQL each append is one statement that locks and moves the head)."""
    import threading

    from django.db import connections

    audit_record(actor=None, action=AuditAction.ADMIN, resource="test:first")
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for i in range(15):
                _append_retrying_sqlite_lock(f"test:{worker}:{i}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = verify_chain()
    assert report.ok, report.problem
    assert report.events == 61
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


def test_an_appended_event_is_returned_as_stored() -> None:
    event = audit_record(actor=None, action=AuditAction.ADMIN, resource="test:one")
    with CaptureQueriesContext(connection) as queries:
        second = audit_record(actor=None, action=AuditAction.ADMIN, resource="test:two")

    if connection.vendor == "postgresql":  # one statement, one round trip
        assert len(queries.captured_queries) == 1

    stored = AuditEvent.objects.get(pk=second.pk)
    assert (stored.hash, stored.prev_hash) == (second.hash, event.hash)
    assert stored.hash == event_hash(stored)
