"""Rollups of the usage ledger: kept equal to the ledger on every write.

Three levels, all with the same sums (``SUM_COLUMNS``): ``DailyUsage`` per (user, UTC day, model,
use case, provider, source, cost source); ``MonthlyUsage``, the same per calendar month (a year
reads ~12 rows per key, not 365); ``DailyProviderUsage`` per (user, UTC day, provider) for the
daily trend. The coarser levels are sums of the daily level: every write adds the same
differences to all three, and a rebuild derives them from the rebuilt daily rows.

The rule: every function that changes a ledger row calls :func:`rollup_apply` in the SAME
transaction, with the row's facts before and after the change (``None`` for "not counted", which
is a row that does not exist yet or is still ``pending``). The difference is added with one
``INSERT … ON CONFLICT DO UPDATE SET x = x + excluded.x`` statement per level, never
read-modify-write, so concurrent writers to the same day and model cannot lose each other's
counts, and a rolled-back ledger write rolls its rollup change back with it. Levels are written
in one fixed order (daily, monthly, per provider) and keys in sorted order, so two writers can
never wait on each other in a cycle.

Write paths that must call it: ``apps.usage.services`` (finish, cost upgrade, error mark, expiry)
and anything that inserts or changes ledger rows later (e.g. sync adjustments)::

    before = ledger_facts(row)          # None for a new row
    ...change and save the row...
    rollup_apply(before=before, after=ledger_facts(row))

``rollups_rebuild`` recomputes the rows from the ledger (the ``rebuild_usage_rollups`` command).

A call is a gateway row: only ``source = gateway`` rows count in ``calls``, ``successful``,
``errors``, ``fallbacks``, ``unpriced`` and the latency sums. A sync adjustment
(``source = activity_sync``: spend OpenRouter billed that the gateway did not record) adds its
tokens and cost and nothing else. :func:`ledger_facts` and the rebuild's SQL apply the same rule.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from .models import AIUsageLog, DailyProviderUsage, DailyUsage, MonthlyUsage, UsageSource, UsageStatus
from .statements import json_value, recordset_columns

KEY_COLUMNS = ("user_id", "day", "model", "use_case", "provider", "source", "cost_source")
SUM_COLUMNS = (
    "calls",
    "successful",
    "errors",
    "fallbacks",
    "unpriced",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "cost_sek",
    "latency_ms_sum",
    "latency_count",
)
TABLE = DailyUsage._meta.db_table
MONTHLY_TABLE = MonthlyUsage._meta.db_table
PROVIDER_TABLE = DailyProviderUsage._meta.db_table
MONTHLY_KEY = ("user_id", "month", "model", "use_case", "provider", "source", "cost_source")
PROVIDER_KEY = ("user_id", "day", "provider")

Key = tuple[Any, ...]


def _month_key(daily: Key) -> Key:
    user_id, day, *rest = daily
    return (user_id, day.replace(day=1), *rest)


def _provider_key(daily: Key) -> Key:
    return (daily[0], daily[1], daily[4])


@dataclass(frozen=True)
class Level:
    """One rollup table: its key columns and how a daily key maps onto its key."""

    table: str
    key_columns: tuple[str, ...]
    key: Callable[[Key], Key]
    model: type[Any]


# The write order of the levels (the same in every transaction: no lock cycles).
LEVELS = (
    Level(TABLE, KEY_COLUMNS, lambda daily: daily, DailyUsage),
    Level(MONTHLY_TABLE, MONTHLY_KEY, _month_key, MonthlyUsage),
    Level(PROVIDER_TABLE, PROVIDER_KEY, _provider_key, DailyProviderUsage),
)


@dataclass(frozen=True)
class LedgerFacts:
    """What one finished ledger row adds to its rollup row."""

    key: Key
    sums: tuple[Any, ...]


def ledger_day(created_at: dt.datetime) -> dt.date:
    """A ledger row belongs to the UTC day of its ``created_at`` (OpenRouter's days)."""
    return created_at.astimezone(dt.UTC).date()


def ledger_facts(row: AIUsageLog) -> LedgerFacts | None:
    """The row's contribution to the rollups; ``None`` while it is ``pending`` (not counted yet).

    Only a gateway row is a call; an adjustment row adds tokens and cost only (module rule).
    """
    if row.status == UsageStatus.PENDING:
        return None
    call = row.source == UsageSource.GATEWAY
    key = (
        row.user_id,
        ledger_day(row.created_at),
        row.model,
        row.use_case,
        row.provider,
        row.source,
        row.cost_source,
    )
    sums = (
        int(call),
        int(call and row.status == UsageStatus.SUCCESS),
        int(call and row.status != UsageStatus.SUCCESS),
        int(call and bool(row.is_fallback)),
        int(call and row.cost_usd is None),
        row.prompt_tokens,
        row.completion_tokens,
        row.total_tokens,
        row.cost_usd if row.cost_usd is not None else Decimal(0),
        row.cost_sek if row.cost_sek is not None else Decimal(0),
        (row.latency_ms or 0) if call else 0,
        int(call and row.latency_ms is not None),
    )
    return LedgerFacts(key=key, sums=sums)


def _deltas(changes: Iterable[tuple[LedgerFacts | None, LedgerFacts | None]]) -> dict[Key, list[Any]]:
    deltas: dict[Key, list[Any]] = defaultdict(lambda: [0] * len(SUM_COLUMNS))
    for before, after in changes:
        for facts, sign in ((before, -1), (after, 1)):
            if facts is not None:
                total = deltas[facts.key]
                for i, value in enumerate(facts.sums):
                    total[i] += sign * value
    return {key: sums for key, sums in deltas.items() if any(sums)}


def _level_deltas(level: Level, daily: dict[Key, list[Any]]) -> dict[Key, list[Any]]:
    """The daily differences summed onto ``level``'s keys (empty differences dropped)."""
    if level.table == TABLE:
        return daily
    summed: dict[Key, list[Any]] = defaultdict(lambda: [0] * len(SUM_COLUMNS))
    for key, sums in daily.items():
        total = summed[level.key(key)]
        for i, value in enumerate(sums):
            total[i] += value
    return {key: sums for key, sums in summed.items() if any(sums)}


def _sorted_keys(deltas: dict[Key, list[Any]]) -> list[Key]:
    """Keys in the one order every writer locks them in (no two writers wait in a cycle)."""
    return sorted(deltas, key=lambda k: tuple(str(part) for part in k))


def _upsert(level: Level, deltas: dict[Key, list[Any]]) -> tuple[str, list[Any]]:
    """The statement adding ``deltas`` to ``level``, keys in sorted order, and its parameters."""
    columns = (*level.key_columns, *SUM_COLUMNS)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params: list[Any] = []
    for key in _sorted_keys(deltas):
        user_id, day, *rest = key
        params.extend((user_id, connection.ops.adapt_datefield_value(day), *rest, *deltas[key]))
    updates = ", ".join(f"{name} = {level.table}.{name} + excluded.{name}" for name in SUM_COLUMNS)
    # Identifiers are this module's constants; every value is a query parameter.
    sql = (
        f"INSERT INTO {level.table} ({', '.join(columns)}) VALUES {', '.join([row_sql] * len(deltas))} "  # noqa: S608  # nosec B608: constant identifiers, bound values
        f"ON CONFLICT ({', '.join(level.key_columns)}) DO UPDATE SET {updates}"
    )
    return sql, params


def _upsert_from_json(level: Level) -> str:
    """The constant statement adding one JSON array of rows (``[{column: value}, …]``) to ``level``.

    Its text never changes with the number of keys, so the driver converts it once and reuses the
    conversion. The rows are inserted in the array's order (a function scan keeps it), which the
    caller makes the sorted key order.
    """
    columns = (*level.key_columns, *SUM_COLUMNS)
    updates = ", ".join(f"{name} = t.{name} + excluded.{name}" for name in SUM_COLUMNS)
    # Identifiers are this module's constants; the rows are the one bound parameter.
    return (
        f"INSERT INTO {level.table} AS t ({', '.join(columns)}) SELECT * "  # noqa: S608  # nosec B608: constant identifiers, bound values
        f"FROM jsonb_to_recordset(%s::jsonb) AS r({recordset_columns(level.model, columns)}) "
        f"ON CONFLICT ({', '.join(level.key_columns)}) DO UPDATE SET {updates}"
    )


@functools.cache
def _statements_from_json() -> tuple[str, ...]:
    """Every level's constant statement, in ``LEVELS`` order (PostgreSQL only)."""
    return tuple(_upsert_from_json(level) for level in LEVELS)


@functools.cache
def _all_levels_from_json() -> str:
    """The levels' statements as one request (under psycopg's 4096-character conversion cache)."""
    return "; ".join(_statements_from_json())


def _json_rows(level: Level, deltas: dict[Key, list[Any]]) -> str:
    columns = (*level.key_columns, *SUM_COLUMNS)
    rows = [dict(zip(columns, (*key, *deltas[key]), strict=True)) for key in _sorted_keys(deltas)]
    return json.dumps(rows, default=json_value, separators=(",", ":"))


def _one_round_trip() -> bool:
    """PostgreSQL with client-side binding (Django's default) runs ``a; b; c`` with parameters as
    one request, in order; SQLite and server-side binding take one statement at a time."""
    options = connection.settings_dict.get("OPTIONS") or {}
    return connection.vendor == "postgresql" and not options.get("server_side_binding")


def rollup_apply_many(changes: Iterable[tuple[LedgerFacts | None, LedgerFacts | None]]) -> int:
    """Add the differences of many ``(before, after)`` pairs to every level; see the module rule.

    One statement per level, levels in ``LEVELS`` order, keys in sorted order, so two transactions
    touching the same keys cannot deadlock. On PostgreSQL the three statements are one constant
    text with one JSON parameter per level (an unchanged level gets an empty array), sent in one
    round trip; elsewhere one ``VALUES`` statement per level that changes. Returns the number of
    daily rows touched.
    """
    deltas = _deltas(changes)
    if not deltas:
        return 0
    per_level = [(level, _level_deltas(level, deltas)) for level in LEVELS]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = [_json_rows(level, level_deltas) for level, level_deltas in per_level]
            if _one_round_trip():
                cursor.execute(_all_levels_from_json(), rows)
            else:
                for sql, level_rows in zip(_statements_from_json(), rows, strict=True):
                    cursor.execute(sql, [level_rows])
        else:
            for level, level_deltas in per_level:
                if level_deltas:
                    cursor.execute(*_upsert(level, level_deltas))
    return len(deltas)


def rollup_apply(*, before: LedgerFacts | None, after: LedgerFacts | None) -> None:
    """Move one ledger row's contribution from ``before`` to ``after`` (either may be ``None``).

    Call it inside the transaction that writes the ledger row (see the module docstring).
    """
    rollup_apply_many([(before, after)])


def _instant(day: dt.date) -> Any:
    """Midnight UTC of ``day``, as the database driver takes it (SQLite wants naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC))


def _day_sql() -> str:
    if connection.vendor == "postgresql":
        return "(created_at AT TIME ZONE 'UTC')::date"
    return "date(created_at)"  # SQLite stores aware datetimes as UTC text


def _month_sql(column: str) -> str:
    """The first day of ``column``'s month, as the database computes it."""
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def _sums_sql() -> str:
    return ", ".join(f"SUM({name})" for name in SUM_COLUMNS)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return following - dt.timedelta(days=1)


def derived_levels_rebuild(
    *, user_id: int | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> None:
    """Recompute the monthly and per-provider levels from ``DailyUsage`` for ``start``..``end``.

    The monthly level is recomputed for every month the range touches, whole (a month's row is the
    sum of all its days). Call it in the transaction that rebuilt the daily rows (the rebuild and
    the migration that creates the levels do).
    """
    columns = ", ".join(SUM_COLUMNS)
    params: list[Any] = []
    where: list[str] = ["1 = 1"]
    if user_id is not None:
        where.append("user_id = %s")
        params.append(user_id)
    month_where, month_params = list(where), list(params)
    day_where, day_params = list(where), list(params)
    month_filter: dict[str, Any] = {} if user_id is None else {"user_id": user_id}
    day_filter: dict[str, Any] = dict(month_filter)
    if start is not None:
        month_where.append("day >= %s")
        month_params.append(connection.ops.adapt_datefield_value(_month_start(start)))
        month_filter["month__gte"] = _month_start(start)
        day_where.append("day >= %s")
        day_params.append(connection.ops.adapt_datefield_value(start))
        day_filter["day__gte"] = start
    if end is not None:
        month_where.append("day <= %s")
        month_params.append(connection.ops.adapt_datefield_value(_month_end(end)))
        month_filter["month__lte"] = _month_start(end)
        day_where.append("day <= %s")
        day_params.append(connection.ops.adapt_datefield_value(end))
        day_filter["day__lte"] = end
    month = _month_sql("day")
    # cross-tenant: a maintenance rebuild, narrowed to one user when ``user_id`` is given.
    MonthlyUsage.objects.filter(**month_filter).delete()
    DailyProviderUsage.objects.filter(**day_filter).delete()
    # Identifiers are this module's constants; every value is a query parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MONTHLY_TABLE} ({', '.join(MONTHLY_KEY)}, {columns}) "  # noqa: S608  # nosec B608: constant identifiers, bound values
            f"SELECT user_id, {month}, model, use_case, provider, source, cost_source, {_sums_sql()} "
            f"FROM {TABLE} WHERE {' AND '.join(month_where)} "
            f"GROUP BY user_id, {month}, model, use_case, provider, source, cost_source",
            month_params,
        )
        cursor.execute(
            f"INSERT INTO {PROVIDER_TABLE} ({', '.join(PROVIDER_KEY)}, {columns}) "  # noqa: S608  # nosec B608: constant identifiers, bound values
            f"SELECT user_id, day, provider, {_sums_sql()} "
            f"FROM {TABLE} WHERE {' AND '.join(day_where)} GROUP BY user_id, day, provider",
            day_params,
        )


def rollups_rebuild(
    *, user_id: int | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> int:
    """Recompute the rollups of ``user_id`` (or everyone) for UTC days ``start``..``end`` from the ledger.

    The daily rows from the ledger, then the coarser levels from them (``derived_levels_rebuild``).
    One transaction. On PostgreSQL the rollup tables are locked against writes for its duration
    (in the writers' order), so a ledger write racing the rebuild either commits before the
    rebuild reads the ledger or adds its difference after the rebuild has committed: nothing is
    lost or counted twice. Returns the number of daily rollup rows written.
    """
    where: list[str] = ["status <> %s"]
    params: list[Any] = [UsageStatus.PENDING.value]
    rollup_filter: dict[str, Any] = {}
    if user_id is not None:
        where.append("user_id = %s")
        params.append(user_id)
        rollup_filter["user_id"] = user_id
    if start is not None:
        where.append("created_at >= %s")
        params.append(_instant(start))
        rollup_filter["day__gte"] = start
    if end is not None:
        where.append("created_at < %s")
        params.append(_instant(end + dt.timedelta(days=1)))
        rollup_filter["day__lte"] = end
    status_ok = UsageStatus.SUCCESS.value
    gateway = UsageSource.GATEWAY.value
    # The same rule as ledger_facts: only gateway rows are calls (``call`` below); adjustment rows
    # add tokens and cost. Identifiers are this module's constants; every value is a parameter.
    call = "source = %s"
    select = (
        f"SELECT user_id, {_day_sql()} AS day, model, use_case, provider, source, cost_source, "  # noqa: S608  # nosec B608: constant identifiers, bound values
        f"SUM(CASE WHEN {call} THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {call} AND status = %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {call} AND status <> %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {call} AND is_fallback THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN {call} AND cost_usd IS NULL THEN 1 ELSE 0 END), "
        "SUM(prompt_tokens), SUM(completion_tokens), SUM(total_tokens), "
        "COALESCE(SUM(cost_usd), 0), COALESCE(SUM(cost_sek), 0), "
        f"COALESCE(SUM(CASE WHEN {call} THEN latency_ms END), 0), "
        f"SUM(CASE WHEN {call} AND latency_ms IS NOT NULL THEN 1 ELSE 0 END) "
        f"FROM {AIUsageLog._meta.db_table} WHERE {' AND '.join(where)} "
        "GROUP BY user_id, day, model, use_case, provider, source, cost_source"
    )
    select_params = [gateway, gateway, status_ok, gateway, status_ok, gateway, gateway, gateway, gateway]
    columns = ", ".join((*KEY_COLUMNS, *SUM_COLUMNS))
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for level in LEVELS:
                cursor.execute(f"LOCK TABLE {level.table} IN SHARE ROW EXCLUSIVE MODE")
        # cross-tenant: a maintenance rebuild, narrowed to one user when ``user_id`` is given.
        DailyUsage.objects.filter(**rollup_filter).delete()
        cursor.execute(f"INSERT INTO {TABLE} ({columns}) {select}", [*select_params, *params])
        written = int(cursor.rowcount)
        derived_levels_rebuild(user_id=user_id, start=start, end=end)
        return written
