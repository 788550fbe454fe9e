"""Embedded defaults: SQLite in WAL mode with a busy timeout, and the Celery broker chosen by env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.db.utils import ConnectionHandler

from config.settings.base import BASE_DIR, database


def test_sqlite_connections_open_in_wal_mode_with_a_busy_timeout(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    handler = ConnectionHandler({"default": database(f"sqlite:///{tmp_path / 'app.sqlite3'}")})
    connection = handler["default"]
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()
            cursor.execute("PRAGMA busy_timeout")
            busy = cursor.fetchone()
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()
        assert (journal, busy, synchronous) == (("wal",), (20000,), (1,))  # 1 = NORMAL
        assert connection.transaction_mode == "IMMEDIATE"
        handler.close_all()


def test_postgresql_urls_get_no_sqlite_pragmas() -> None:
    config = database("postgres://app@127.0.0.1:5432/app")
    assert config["OPTIONS"] == {"options": "-c synchronous_commit=off"}


def _dev_settings(tmp_path: Path, **env: str) -> dict[str, Any]:
    """Development settings as a fresh process sees them with ``env`` (and no .env broker)."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'url': s.CELERY_BROKER_URL, 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
        "'options': getattr(s, 'CELERY_BROKER_TRANSPORT_OPTIONS', None)}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "DJANGO_"))}
    clean.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev", CELERY_BROKER_DIR=str(tmp_path / "broker"), **env
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter on a fixed script
        [sys.executable, "-c", script], cwd=BASE_DIR, env=clean, capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_development_without_a_broker_url_queues_on_the_filesystem_for_a_real_worker(tmp_path: Path) -> None:
    seen = _dev_settings(tmp_path)
    broker = tmp_path / "broker"
    assert seen == {
        "url": "filesystem://",
        "eager": False,
        "options": {
            "data_folder_in": str(broker / "queue"),
            "data_folder_out": str(broker / "queue"),
            "control_folder": str(broker / "control"),
            "processed_folder": str(broker / "processed"),
            "store_processed": False,
        },
    }
    assert sorted(p.name for p in broker.iterdir()) == ["control", "processed", "queue"]


def test_development_with_a_broker_url_uses_it(tmp_path: Path) -> None:
    seen = _dev_settings(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:6379/2")
    assert seen == {"url": "redis://127.0.0.1:6379/2", "eager": False, "options": None}
    assert not (tmp_path / "broker").exists()


def test_tests_run_tasks_eagerly_in_process(settings: Any) -> None:
    assert (settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER) == ("memory://", True)
