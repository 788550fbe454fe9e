"""The thin shells over the sync: the management command, the Celery tasks and beat, admin."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from apps.usage.models import ActivityRecord, AIUsageLog, SyncRun, SyncState
from apps.usage.tasks import sync_activity, sync_activity_nightly
from config.celery import BEAT_SCHEDULE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

D1 = dt.date(2026, 11, 25)


def test_the_command_syncs_one_user_with_a_summary_line(
    frozen: Any, user_a: Any, tenant: Any, billed: Any
) -> None:
    tenant(user_a)
    billed(user_a, D1, "openai/gpt-4o-mini", "0.25")
    out, err = StringIO(), StringIO()
    call_command(
        "sync_openrouter_activity",
        "--user",
        "alice",
        "--start",
        "2026-11-25",
        "--end",
        "2026-11-26",
        stdout=out,
        stderr=err,
    )
    assert out.getvalue().strip().splitlines()[-1] == (
        "Synced 2026-11-25..2026-11-26 for 1 user(s): 1 succeeded, 0 failed, 0 need attention; "
        "2 days, 1 records, 1 adjustment rows, 0 calls settled."
    )
    assert err.getvalue() == ""
    assert SyncRun.objects.values_list("user_id", "trigger", "state").get() == (
        user_a.pk,
        "command",
        "succeeded",
    )


def test_the_command_for_all_users_skips_those_without_a_management_key(
    frozen: Any, user_a: Any, user_b: Any, user_c: Any, tenant: Any, billed: Any
) -> None:
    tenant(user_a)
    tenant(user_b)
    tenant(user_c, management=False)
    billed(user_b, D1, "openai/gpt-4o-mini", "0.25")
    out = StringIO()
    call_command("sync_openrouter_activity", "--all-users", stdout=out)
    assert "for 2 user(s): 2 succeeded" in out.getvalue()
    assert "60 days, 1 records, 1 adjustment rows" in out.getvalue()
    assert set(SyncRun.objects.values_list("user_id", flat=True)) == {user_a.pk, user_b.pk}


def test_the_command_reports_a_user_that_needs_attention(frozen: Any, user_a: Any, tenant: Any) -> None:
    tenant(user_a, management=False)
    out, err = StringIO(), StringIO()
    call_command("sync_openrouter_activity", "--user", str(user_a.pk), stdout=out, stderr=err)
    assert "1 need attention" in out.getvalue()
    assert f"user {user_a.pk}: needs_attention: Add a provisioning / management key" in err.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nobody"], "No such user: 'nobody'"),
        (["--user", "alice", "--start", "2026-02-30"], "Not a date (YYYY-MM-DD): '2026-02-30'"),
    ],
)
def test_the_command_refuses_bad_input(frozen: Any, user_a: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("sync_openrouter_activity", *args, stdout=StringIO())
    assert not SyncRun.objects.exists()


def test_beat_runs_the_nightly_sync_at_3_utc_and_the_settlement_and_sweeper_on_their_own() -> None:
    nightly = BEAT_SCHEDULE["usage-sync-activity-nightly"]
    assert nightly["task"] == "apps.usage.tasks.sync_activity_nightly"
    assert (nightly["schedule"].hour, nightly["schedule"].minute) == ({3}, {0})
    assert BEAT_SCHEDULE["usage-settle-unpriced"]["task"] == "apps.usage.tasks.settle_unpriced"
    assert BEAT_SCHEDULE["usage-expire-stale-pending"]["task"] == "apps.usage.tasks.expire_stale_pending"
    assert sync_activity.acks_late is True


def test_the_nightly_task_twice_for_the_same_night_changes_nothing_the_second_time(
    frozen: Any, user_a: Any, user_b: Any, tenant: Any, billed: Any, django_capture_on_commit_callbacks: Any
) -> None:
    tenant(user_a)
    tenant(user_b)
    billed(user_a, dt.date(2026, 11, 26), "openai/gpt-4o-mini", "0.25")
    billed(user_b, dt.date(2026, 11, 27), "openai/gpt-4o-mini", "0.5")
    with django_capture_on_commit_callbacks(execute=True):
        assert sync_activity_nightly.delay().get() == 2
    ledger = list(AIUsageLog.objects.order_by("id").values_list("id", "user_id", "cost_usd", "activity_date"))
    records = list(ActivityRecord.objects.order_by("id").values_list("user_id", "date", "usage"))
    assert [(u, c, d) for _, u, c, d in ledger] == [
        (user_a.pk, Decimal("0.25"), dt.date(2026, 11, 26)),
        (user_b.pk, Decimal("0.5"), dt.date(2026, 11, 27)),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        sync_activity_nightly.delay()
    assert (
        list(AIUsageLog.objects.order_by("id").values_list("id", "user_id", "cost_usd", "activity_date"))
        == ledger
    )
    assert [r[1:] for r in ActivityRecord.objects.order_by("id").values_list("user_id", "date", "usage")] == [
        r[1:] for r in records
    ]
    assert list(SyncRun.objects.values_list("state", flat=True)) == ["succeeded"] * 4


def test_a_redelivered_task_for_a_finished_run_does_nothing(
    frozen: Any, user_a: Any, tenant: Any, emulator: Any
) -> None:
    tenant(user_a)
    run = SyncRun.objects.create(user=user_a, start=D1, end=D1, trigger="api", state=SyncState.SUCCEEDED)
    assert sync_activity.delay(run_id=run.pk).get() == "succeeded"
    assert emulator.requests == []


@pytest.fixture
def staff_client(db: Any) -> tuple[Client, Any]:
    staff = UserFactory(username="staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_syncrun", "add_syncrun", "view_activityrecord", "view_reconciliation"]
        )
    )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(staff)
    return client, staff


def test_admin_lists_runs_read_only_and_staff_can_start_a_sync(
    frozen: Any,
    staff_client: tuple[Client, Any],
    user_a: Any,
    tenant: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client, _staff = staff_client
    tenant(user_a)
    old = SyncRun.objects.create(
        user=user_a, start=D1, end=D1, trigger="api", state=SyncState.FAILED, error="down"
    )
    listing = client.get(reverse("admin:usage_syncrun_changelist"), {"state": "failed"})
    assert listing.status_code == 200
    assert [run.pk for run in listing.context["cl"].result_list] == [old.pk]
    assert client.get(reverse("admin:usage_syncrun_change", args=[old.pk])).status_code == 200
    assert client.get(reverse("admin:usage_syncrun_add")).status_code == 403
    assert client.get(reverse("admin:usage_activityrecord_changelist")).status_code == 200
    assert client.get(reverse("admin:usage_reconciliation_changelist")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:usage_syncrun_changelist"), {"action": "start_sync", "_selected_action": [old.pk]}
        )
    assert response.status_code == 302
    new = SyncRun.objects.get(trigger="admin")
    assert (new.user_id, new.trigger, new.state, new.start, new.end) == (
        user_a.pk,
        "admin",
        "succeeded",
        dt.date(2026, 10, 29),
        dt.date(2026, 11, 27),
    )


def test_staff_without_the_permission_cannot_start_a_sync(frozen: Any, user_a: Any) -> None:
    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_syncrun"))
    client = Client()
    client.force_login(staff)
    old = SyncRun.objects.create(user=user_a, start=D1, end=D1, trigger="api", state=SyncState.FAILED)
    response = client.post(
        reverse("admin:usage_syncrun_changelist"), {"action": "start_sync", "_selected_action": [old.pk]}
    )
    assert SyncRun.objects.count() == 1
    assert response.status_code == 200  # the action is not offered: the list is shown again
