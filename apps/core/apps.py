from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # System checks register themselves on import: without this the encryption-key check
        # never runs, and a bad FIELD_ENCRYPTION_KEYS would only show as failing AI calls.
        from . import checks  # noqa: F401
