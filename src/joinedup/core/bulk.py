"""Bulk writes without the ORM's per-value overhead, for ingestion and linkage.

`INSERT … ON CONFLICT (…) DO UPDATE SET col = excluded.col` is the same on SQLite
(3.24+) and PostgreSQL, so one statement serves both engines. Values are adapted
once per column with the backend's own adapters, exactly as the ORM would store them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection, models


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    target = field.target_field if isinstance(field, models.ForeignKey) else field
    if isinstance(target, models.JSONField | models.UUIDField):
        return lambda value: field.get_db_prep_save(value, connection)
    return lambda value: value


def upsert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    unique: Sequence[str],
    update: Sequence[str],
    batch_size: int = 2000,
) -> None:
    """Insert rows (dicts keyed by field attname); where one clashes on ``unique``, update
    only the ``update`` columns of the stored row (so e.g. a link to a person survives)."""
    if not rows:
        return
    names = list(rows[0])
    fields = [_field(model, n) for n in names]
    adapt = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    updates = ", ".join(
        f"{quote(f.column)} = excluded.{quote(f.column)}" for f in fields if f.attname in update
    )
    conflict = ", ".join(quote(_field(model, u).column) for u in unique)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers are the backend's quoted names from model metadata; values are parameters.
    table = quote(model._meta.db_table)
    insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    sql = f"{insert} ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            cursor.executemany(
                sql, [[a(row[n]) for a, n in zip(adapt, names, strict=True)] for row in batch]
            )


def _field(model: type[models.Model], attname: str) -> models.Field[Any, Any]:
    for field in model._meta.concrete_fields:
        if field.attname == attname:
            return field
    raise KeyError(f"{model.__name__} has no column {attname}")


def update_rows(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    key: str = "id",
    batch_size: int = 2000,
) -> None:
    """Set the given columns of existing rows, found by ``key`` (dicts keyed by attname)."""
    if not rows:
        return
    names = [n for n in rows[0] if n != key]
    fields = [_field(model, n) for n in names]
    adapt = [_adapter(f) for f in fields]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    table = quote(model._meta.db_table)
    sql = f"UPDATE {table} SET {sets} WHERE {quote(_field(model, key).column)} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            cursor.executemany(
                sql,
                [
                    [*(a(row[n]) for a, n in zip(adapt, names, strict=True)), row[key]]
                    for row in rows[start : start + batch_size]
                ],
            )
