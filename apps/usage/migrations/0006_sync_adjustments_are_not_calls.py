"""Sync adjustments are spend, not calls: take their counts out of the existing rollups.

Until now a ledger row with ``source = activity_sync`` was rolled up as one successful call. The
rule now (``apps.usage.rollups``): only gateway rows count in calls, successes, errors,
fallbacks, unpriced and latency; adjustments add tokens and cost. The daily and monthly keys
include ``source``, so their adjustment rows lose their counts outright; the per-day-and-provider
level has no ``source`` and loses exactly what its day's adjustment rows had counted. Tokens and
cost stay. ``manage.py rebuild_usage_rollups`` gives the same result from the ledger.
"""

from django.db import migrations

COUNTS = ("calls", "successful", "errors", "fallbacks", "unpriced", "latency_ms_sum", "latency_count")
SYNC = "activity_sync"


def adjustments_are_not_calls(apps, schema_editor):
    # Constant identifiers (COUNTS); the one value is a parameter.
    taken = ", ".join(
        f"{name} = {name} - COALESCE((SELECT SUM(d.{name}) FROM usage_daily d "  # nosec B608
        "WHERE d.user_id = usage_daily_provider.user_id AND d.day = usage_daily_provider.day "
        "AND d.provider = usage_daily_provider.provider AND d.source = %s), 0)"
        for name in COUNTS
    )
    zeroed = ", ".join(f"{name} = 0" for name in COUNTS)
    with schema_editor.connection.cursor() as cursor:
        # The provider level first: it reads the daily level's counts before they are zeroed.
        # Constant identifiers; the one value is a parameter.
        cursor.execute(
            f"UPDATE usage_daily_provider SET {taken} "  # nosec B608
            "WHERE EXISTS (SELECT 1 FROM usage_daily d WHERE d.user_id = usage_daily_provider.user_id "
            "AND d.day = usage_daily_provider.day AND d.provider = usage_daily_provider.provider "
            "AND d.source = %s)",
            [SYNC] * (len(COUNTS) + 1),
        )
        cursor.execute(f"UPDATE usage_daily SET {zeroed} WHERE source = %s", [SYNC])  # nosec B608
        cursor.execute(f"UPDATE usage_monthly SET {zeroed} WHERE source = %s", [SYNC])  # nosec B608


class Migration(migrations.Migration):

    dependencies = [
        ("usage", "0005_monthly_and_day_provider_rollups"),
    ]

    operations = [
        migrations.RunPython(adjustments_are_not_calls, migrations.RunPython.noop),
    ]
