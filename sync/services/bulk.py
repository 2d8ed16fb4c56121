"""Bulk inserts of a page's rows. On PostgreSQL, COPY with ids drawn from the table's sequence: for a page of
wide rows (a customer has some forty columns) Django's bulk_create spends most of its time preparing and quoting
values one by one, and an initial pull of 100,000 accounts is mostly inserts. Elsewhere (SQLite) bulk_create.

The objects get their primary keys either way, so links can point at them in the same transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, JSONField, Model

COPY_FROM = 20  # fewer rows than this: bulk_create is as quick


def _value(field: Any, obj: Model) -> Any:
    value = getattr(obj, field.attname)
    if isinstance(field, JSONField):
        return None if value is None else json.dumps(value, cls=field.encoder)
    return value


def insert_rows(model: type[Model], objs: Sequence[Model]) -> None:
    """Inserts `objs` (new rows of `model`) and sets their primary keys."""
    if not objs:
        return
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model._default_manager.bulk_create(objs, batch_size=500)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not getattr(f, "generated", False)]
    table = meta.db_table
    pk_column = meta.pk.column if meta.pk is not None else "id"
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk_column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk
            for f in fields:
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                    f.pre_save(obj, add=True)
            obj._state.adding = False
            obj._state.db = connection.alias
        raw = cursor.cursor
        with (
            connection.wrap_database_errors,
            raw.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy,
        ):
            for obj in objs:
                copy.write_row([_value(f, obj) for f in fields])


def update_rows(model: type[Model], objs: Sequence[Model], fields: Sequence[str]) -> None:
    """Writes `fields` of existing rows. On PostgreSQL one UPDATE per row sent in a pipeline (psycopg's
    executemany): Django's bulk_update builds a CASE expression per field and row, which costs more to build than
    the update takes. Elsewhere bulk_update."""
    if not objs or not fields:
        return
    if connection.vendor != "postgresql" or len(objs) < COPY_FROM:
        model._default_manager.bulk_update(objs, list(fields), batch_size=500)
        return
    meta = model._meta
    concrete: list[Field[Any, Any]] = []
    for name in fields:
        found = meta.get_field(name)
        assert isinstance(found, Field), f"{name} is not a column of {meta.label}"
        concrete.append(found)
    now_fields = [f for f in concrete if getattr(f, "auto_now", False)]
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in concrete)
    pk = meta.pk
    assert pk is not None
    sql = f"UPDATE {connection.ops.quote_name(meta.db_table)} SET {assignments} WHERE {connection.ops.quote_name(pk.column)} = %s"  # noqa: S608 - names from the model
    params = []
    for obj in objs:
        for f in now_fields:
            f.pre_save(obj, add=False)
        params.append([*(_value(f, obj) for f in concrete), obj.pk])
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
