"""``manage.py openrouter_emulator``: serve the OpenRouter emulator on a loopback port.

Development points ``OPENROUTER_BASE_URL`` at it; live and load tests script it through its
``/_emulator/…`` control endpoints. It needs no database.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from apps.emulator import Emulator
from apps.emulator.core import CREDITS_MODES
from apps.emulator.server import make_emulator_server


class Command(BaseCommand):
    help = "Serve the local OpenRouter emulator (with the demo account) on a loopback port."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8788)
        parser.add_argument(
            "--generation-delay", type=float, default=1.5, help="seconds /generation answers 404"
        )
        parser.add_argument("--credits-mode", choices=CREDITS_MODES, default="strict")
        parser.add_argument("--activity-date-format", choices=("timestamp", "date"), default="timestamp")
        parser.add_argument("--usage-chunk-style", choices=("repeat", "legacy"), default="repeat")
        parser.add_argument("--read-timeout-sleep", type=float, default=30.0)
        parser.add_argument("--log-requests", action="store_true", help="log one line per request")

    def handle(self, *args: Any, **options: Any) -> None:
        emulator = Emulator(
            generation_delay_seconds=options["generation_delay"],
            credits_mode=options["credits_mode"],
            activity_date_format=options["activity_date_format"],
            usage_chunk_style=options["usage_chunk_style"],
            read_timeout_sleep=options["read_timeout_sleep"],
            control_endpoints=True,
        )
        keys = emulator.seed_demo()
        try:
            server = make_emulator_server(
                emulator, options["host"], options["port"], verbose=options["log_requests"]
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {options['host']}:{options['port']}: {exc}") from exc
        self._announce(options["host"], options["port"], keys)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopping the emulator.")
        finally:
            server.server_close()

    def _announce(self, host: str, port: int, keys: dict[str, str]) -> None:
        self.stdout.write(self.style.SUCCESS(f"OpenRouter emulator on http://{host}:{port}/api/v1"))
        # These are fixed development keys for this local emulator only, never real credentials.
        for kind, key in keys.items():
            self.stdout.write(f"  demo {kind} key: {key}")
        self.stdout.write(f"  control: http://{host}:{port}/_emulator/{{faults,ledger,reset}}")
        self.stdout.flush()
