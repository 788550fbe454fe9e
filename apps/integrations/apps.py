from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.integrations"
    label = "integrations"

    def ready(self) -> None:
        from .caching import connect_budget_cache_invalidation, connect_cache_invalidation

        connect_cache_invalidation()
        connect_budget_cache_invalidation()
