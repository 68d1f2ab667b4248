"""Logical backup and restore, the same on SQLite and PostgreSQL.

A backup is one gzip file of JSON lines: a header naming the schema (the applied
migrations), then each table's columns and rows, values written at full
precision (microseconds, exact decimals) so that a restore gives back every row
exactly, audit hashes included, and can move a database from SQLite to
PostgreSQL or back. A restore replaces the database's contents in one
transaction: it either completes or changes nothing.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from joinedup.core.audit import audit_record
from joinedup.core.models import AuditAction
from joinedup.errors import InvalidInput

FORMAT = "joinedup-backup"
VERSION = 1
_BATCH = 1000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BackupSummary:
    tables: int
    rows: int


def backed_up_models() -> list[type[models.Model]]:
    """Every concrete table Django manages, many-to-many link tables included, in a fixed order."""
    found = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]
    return sorted(found, key=lambda m: m._meta.db_table)


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return list(model._meta.concrete_fields)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _applied_migrations() -> list[list[str]]:
    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


def backup_write(path: Path, *, progress: Progress | None = None) -> BackupSummary:
    """Write every table to ``path``; the backup itself is audited (and included)."""
    audit_record(
        actor=None, action=AuditAction.EXPORT, resource="database.backup", reason=str(path)
    )
    tmp = path.with_name(path.name + ".partial")
    total = 0
    chosen = backed_up_models()
    with transaction.atomic(), gzip.open(tmp, "wt", encoding="utf-8") as out:
        if connection.vendor == "postgresql":  # one consistent snapshot of every table
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        header = {
            "format": FORMAT,
            "version": VERSION,
            "vendor": connection.vendor,
            "created_at": timezone.now().isoformat(),
            "migrations": _applied_migrations(),
        }
        out.write(json.dumps(header) + "\n")
        for index, model in enumerate(chosen, start=1):
            total += _write_table(out, model)
            if progress:
                progress("backing up tables", index, len(chosen))
    tmp.replace(path)
    return BackupSummary(tables=len(chosen), rows=total)


def _write_table(out: Any, model: type[models.Model]) -> int:
    columns = _columns(model)
    names = [f.attname for f in columns]
    rows = model._base_manager.order_by("pk").values_list(*names)
    out.write(json.dumps({"table": model._meta.label, "columns": names}) + "\n")
    count = 0
    for row in rows.iterator(chunk_size=2000):
        out.write(json.dumps([_encode(v) for v in row], ensure_ascii=False) + "\n")
        count += 1
    return count


def _read(path: Path) -> Iterator[Any]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as source:
            for number, line in enumerate(source, start=1):
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    raise InvalidInput("the backup is damaged", where=f"{path}:{number}") from None
    except (OSError, EOFError) as exc:
        raise InvalidInput(f"cannot read the backup: {exc}", where=str(path)) from None


def backup_restore(path: Path, *, progress: Progress | None = None) -> BackupSummary:
    """Replace every table's rows with the backup's, in one transaction."""
    if not path.is_file():
        raise InvalidInput("no backup file there", where=str(path))
    lines = _read(path)
    header = next(lines, None)
    _check_header(header, path)
    by_label = {m._meta.label: m for m in backed_up_models()}
    tables = rows = 0
    with transaction.atomic():
        _empty_tables(list(by_label.values()))
        model: type[models.Model] | None = None
        pending: list[list[Any]] = []
        columns: list[str] = []
        for item in lines:
            if isinstance(item, dict):
                rows += _insert(model, columns, pending)
                model, columns, pending = _table_start(item, by_label, path), item["columns"], []
                tables += 1
                if progress:
                    progress("restoring tables", tables, len(by_label))
            else:
                pending.append(item)
                if len(pending) >= _BATCH:
                    rows += _insert(model, columns, pending)
                    pending = []
        rows += _insert(model, columns, pending)
        _reset_sequences(list(by_label.values()))
        audit_record(
            actor=None, action=AuditAction.ADMIN, resource="database.restore", reason=str(path)
        )
    return BackupSummary(tables=tables, rows=rows)


def _check_header(header: Any, path: Path) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidInput("not a joinedup backup", where=str(path))
    if header.get("version") != VERSION:
        raise InvalidInput(f"backup format version {header.get('version')} is not supported")
    if header.get("migrations") != _applied_migrations():
        raise InvalidInput(
            "the backup was taken at a different schema version: run `joinedup migrate` to "
            "the same release as the backup first",
            where=str(path),
        )


def _table_start(
    item: dict[str, Any], by_label: dict[str, type[models.Model]], path: Path
) -> type[models.Model]:
    model = by_label.get(item.get("table", ""))
    if model is None:
        raise InvalidInput(
            f"the backup has a table this release does not: {item.get('table')}", where=str(path)
        )
    expected = [f.attname for f in _columns(model)]
    if item.get("columns") != expected:
        raise InvalidInput(
            f"the columns of {model._meta.label} do not match this release", where=str(path)
        )
    return model


def _insert(model: type[models.Model] | None, columns: list[str], rows: list[list[Any]]) -> int:
    if model is None or not rows:
        return 0
    fields = {f.attname: f for f in _columns(model)}
    objects = []
    for row in rows:
        values = {name: _decode(fields[name], raw) for name, raw in zip(columns, row, strict=True)}
        objects.append(model(**values))
    with _stored_timestamps_kept(model):
        model._base_manager.bulk_create(objects, batch_size=_BATCH)
    return len(objects)


@contextmanager
def _stored_timestamps_kept(model: type[models.Model]) -> Iterator[None]:
    """Stop auto_now / auto_now_add fields stamping restored rows with the time of the restore."""
    stamped = [
        (f, f.auto_now, f.auto_now_add)
        for f in _columns(model)
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    for field, _, _ in stamped:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, now, now_add in stamped:
            field.auto_now, field.auto_now_add = now, now_add


def _decode(field: models.Field[Any, Any], raw: Any) -> Any:
    if raw is None:
        return None
    if isinstance(field, models.DurationField):
        return timedelta(seconds=raw)
    if isinstance(field, models.JSONField):
        return raw
    return field.to_python(raw)


def _empty_tables(chosen: list[type[models.Model]]) -> None:
    tables = [m._meta.db_table for m in chosen]
    with connection.cursor() as cursor:
        for statement in connection.ops.sql_flush(
            no_style(), tables, reset_sequences=False, allow_cascade=True
        ):
            cursor.execute(statement)


def _reset_sequences(chosen: list[type[models.Model]]) -> None:
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), chosen):
            cursor.execute(statement)
