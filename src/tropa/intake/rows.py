"""Rows written many at a time by prepared statements, for intake's hot path.

The ORM compiles every INSERT and UPDATE afresh: for a batch of messages that
costs more than the flow step, the encryption and the commit together. These
write the same values the ORM's own save would, prepared by each field
(`pre_save` stamps `auto_now` dates and encrypts encrypted fields, bound to
the row), in one `executemany` per table.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper


@cache
def _writable(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if not f.primary_key)


def _values(
    row: models.Model,
    fields: Sequence[models.Field],
    connection: BaseDatabaseWrapper,
    *,
    add: bool,
) -> list[object]:
    return [field.get_db_prep_save(field.pre_save(row, add), connection) for field in fields]


def _connection() -> BaseDatabaseWrapper:
    # The wrapper itself, not `django.db.connection`: that proxy looks the
    # connection up in a context-local on every attribute read, ten times a row.
    return connections[DEFAULT_DB_ALIAS]


def rows_insert(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """INSERT new rows. Their primary keys stay unset: find them again by a
    natural key (an outbound message by its idempotency key)."""
    if not rows:
        return
    fields, connection = _writable(model), _connection()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_values(row, fields, connection, add=True) for row in rows])


def rows_update(model: type[models.Model], rows: Sequence[models.Model]) -> None:
    """UPDATE existing rows, every column, by primary key."""
    if not rows:
        return
    # The uid stays as it was made: it is bound into every encrypted field.
    fields = tuple(f for f in _writable(model) if f.name != "uid")
    connection = _connection()
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    key = quote(model._meta.pk.column)
    sql = f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE {key} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(
            sql, [[*_values(row, fields, connection, add=False), row.pk] for row in rows]
        )
