from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # System checks register themselves on import: without this the encryption-key check
        # never runs, and a bad FIELD_ENCRYPTION_KEYS would only show as failing AI calls.
        from . import checks  # noqa: F401
        from .api import strict

        # JSON bodies are read at their documented types (no "0" for 0, no "true" for true).
        strict.install()
        self._connect_fx_rate_signals()

    def _connect_fx_rate_signals(self) -> None:
        # Any save or delete of an FX rate (admin, a bulk delete, the shell) applies at once.
        from django.db.models.signals import post_delete, post_save

        from .models import FxRate
        from .money import usd_sek_rates_changed

        def changed(**kwargs: object) -> None:
            usd_sek_rates_changed()

        post_save.connect(changed, sender=FxRate, weak=False, dispatch_uid="core.fx_rate_saved")
        post_delete.connect(changed, sender=FxRate, weak=False, dispatch_uid="core.fx_rate_deleted")
