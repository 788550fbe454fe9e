"""Development on embedded defaults: no services needed, OpenRouter is the local emulator."""

from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, INSTALLED_APPS, env, filesystem_broker

# The local OpenRouter (its management command and WSGI app); never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.emulator"]
DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Development-only values: never used in production, where prod.py requires real ones.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-insecure-secret-key-change-me-0123456789abcdef")
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=["ZGV2LW9ubHktZmllbGQta2V5LW5ldmVyLWluLXByb2Q="]
)
OPENROUTER_BASE_URL = env.str("OPENROUTER_BASE_URL", default="http://127.0.0.1:8788/api/v1")
SYSTEM_AI_BASE_URL = env.str("SYSTEM_AI_BASE_URL", default="http://127.0.0.1:8788/api/v1")
# The emulator's demo account has a fixed "system" key (not a secret: it opens only the local
# emulator), so the fallback provider works out of the box in development.
SYSTEM_AI_API_KEY = env.str("SYSTEM_AI_API_KEY", default="")
if not SYSTEM_AI_API_KEY:
    from apps.emulator.demo import DEMO

    SYSTEM_AI_API_KEY = DEMO.system_key
# Platform-provisioned keys in development are created with the emulator demo account's fixed
# management key (not a secret either: it opens only the local emulator).
OPENROUTER_PLATFORM_MANAGEMENT_KEY = env.str("OPENROUTER_PLATFORM_MANAGEMENT_KEY", default="")
if not OPENROUTER_PLATFORM_MANAGEMENT_KEY:
    from apps.emulator.demo import DEMO

    OPENROUTER_PLATFORM_MANAGEMENT_KEY = DEMO.management_key
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Celery as in production (a worker and beat, started by scripts/run-dev.sh), on kombu's filesystem
# transport unless CELERY_BROKER_URL names a broker (Redis). Tasks run eagerly in-process only when
# CELERY_TASK_ALWAYS_EAGER=true is set.
if not env.str("CELERY_BROKER_URL", default=""):
    _broker = filesystem_broker(Path(env.str("CELERY_BROKER_DIR", default=str(BASE_DIR / "var" / "celery"))))
    CELERY_BROKER_URL = _broker["CELERY_BROKER_URL"]
    CELERY_BROKER_TRANSPORT_OPTIONS = _broker["CELERY_BROKER_TRANSPORT_OPTIONS"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
