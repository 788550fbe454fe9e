"""The ledger's two hot writes as constant SQL: the ``pending`` INSERT and the finishing UPDATE.

Each is one text that never changes with its values, so the database driver converts it once and
reuses the conversion (psycopg caches texts up to 4096 characters and 50 parameters), and neither
goes through the ORM's compiler. The callers (``apps.usage.services``, ``apps.usage.writer``) own
the transactions and the rollups; these only write the rows. Rows for many-row statements (here
and in ``apps.usage.rollups``) travel as one JSON parameter read with ``jsonb_to_recordset``.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from decimal import Decimal
from typing import Any

from django.db import connection

from .models import AIUsageLog, UsageStatus


def json_value(value: Any) -> Any:
    """A value as ``jsonb_to_recordset`` reads it back exactly: decimals and days as strings."""
    if isinstance(value, Decimal | dt.date):  # dt.datetime is a dt.date too
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    raise TypeError(type(value).__name__)


def recordset_columns(model: type[Any], columns: tuple[str, ...]) -> str:
    """``name type, …`` for ``jsonb_to_recordset``, each column typed as the table types it.

    Lengths and scales are left off (``varchar(200)`` reads as ``text``, ``numeric(24, 12)`` as
    ``numeric``): the insert into the table applies them, and the statement stays short enough
    for the driver's conversion cache.
    """
    types = {
        field.column: re.sub(r"\(.*\)", "", field.db_type(connection))
        for field in model._meta.concrete_fields
    }
    short = {"varchar": "text", "bigint": "int8", "integer": "int4", "smallint": "int2"}
    return ", ".join(f"{name} {short.get(types[name], types[name])}" for name in columns)


# What finishing a call writes to its row.
FINISH_FIELDS = [
    "status",
    "prompt_tokens",
    "completion_tokens",
    "reasoning_tokens",
    "cached_tokens",
    "total_tokens",
    "cost_usd",
    "cost_source",
    "cost_sek",
    "fx_rate",
    "generation_id",
    "model",
    "provider",
    "is_fallback",
    "attempts",
    "latency_ms",
    "error_code",
    "error_message",
    "completed_at",
]

# The pending row's columns, every one given explicitly (no database defaults are relied on).
_INSERT_FIELDS = [field for field in AIUsageLog._meta.concrete_fields if not field.primary_key]
# Only these field types turn a value into something else for the database (a UUID into text on
# SQLite, an aware datetime into naive UTC text, …); the values of the others (str, int, bool,
# None) are already what the driver takes, so their conversion is skipped on the hot path.
_CONVERTED = {"UUIDField", "DateTimeField", "DateField", "DecimalField"}
_INSERT_COLUMNS = [
    (field.attname, field if field.get_internal_type() in _CONVERTED else None) for field in _INSERT_FIELDS
]


@functools.cache
def _insert_sql(returning: bool) -> str:
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in _INSERT_FIELDS)
    values = ", ".join(["%s"] * len(_INSERT_FIELDS))
    # Identifiers come from the model; every value is a query parameter.
    sql = f"INSERT INTO {AIUsageLog._meta.db_table} ({columns}) VALUES ({values})"  # noqa: S608  # nosec B608: constant identifiers, bound values
    return sql + " RETURNING id" if returning else sql


def ledger_row_insert(log: AIUsageLog) -> None:
    """Insert the unsaved ``log`` with every column it holds; sets its pk and marks it saved."""
    params = []
    for attname, field in _INSERT_COLUMNS:
        value = log.__dict__[attname]
        params.append(value if field is None or value is None else field.get_db_prep_save(value, connection))
    returning = connection.features.can_return_columns_from_insert
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(returning), params)
        log.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    log._state.adding, log._state.db = False, connection.alias


@functools.cache
def _finish_sql() -> str:
    """One UPDATE for any number of rows (PostgreSQL): the rows travel as one JSON parameter."""
    names = ", ".join(FINISH_FIELDS)
    # Identifiers are the model's constants; the rows and the status are bound parameters.
    return (
        f"UPDATE {AIUsageLog._meta.db_table} AS l SET ({names}) = ({', '.join('r.' + n for n in FINISH_FIELDS)}) "  # noqa: S608  # nosec B608: constant identifiers, bound values
        f"FROM jsonb_to_recordset(%s::jsonb) AS r({recordset_columns(AIUsageLog, ('id', *FINISH_FIELDS))}) "
        # The status is part of the text, not a parameter, so any plan (a generic one too) can
        # find the rows through the small index of pending rows instead of scanning the ledger.
        f"WHERE l.id = r.id AND l.status = '{UsageStatus.PENDING.value}' RETURNING l.id"
    )


def ledger_rows_finish(logs: list[AIUsageLog]) -> set[int]:
    """Write the finished fields of every row of ``logs`` still ``pending`` in the database.

    Returns the ids written; a row something else finished first is left alone (the caller takes
    the difference from what it holds). Call inside the transaction that adds the rollups.
    """
    if connection.vendor == "postgresql":
        rows = [{"id": log.pk, **{name: getattr(log, name) for name in FINISH_FIELDS}} for log in logs]
        payload = json.dumps(rows, default=json_value, separators=(",", ":"))
        with connection.cursor() as cursor:
            cursor.execute(_finish_sql(), [payload])
            return {row[0] for row in cursor.fetchall()}
    written: set[int] = set()
    for log in logs:
        values = {name: getattr(log, name) for name in FINISH_FIELDS}
        if AIUsageLog.objects.filter(pk=log.pk, status=UsageStatus.PENDING).update(**values):
            written.add(log.pk)
    return written
