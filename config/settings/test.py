"""Tests: SQLite and local memory unless DATABASE_URL/CACHE_URL say otherwise (CI uses PostgreSQL
and Redis). OpenRouter is the in-process emulator, mounted on this origin by the test fixtures."""

from .base import *  # noqa: F403
from .base import INSTALLED_APPS, env

# The local OpenRouter (its management command and WSGI app); never installed in production.
INSTALLED_APPS = [*INSTALLED_APPS, "apps.emulator"]
DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdefghijklmnop"  # noqa: S105
FIELD_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWZpZWxkLWtleS0wMDAwMDAwMDAwMDA="]
OPENROUTER_BASE_URL = "http://openrouter.test/api/v1"
SYSTEM_AI_BASE_URL = "http://system-ai.test/api/v1"
SYSTEM_AI_API_KEY = "system-test-key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min", "ai": "10000/min"}
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://tests")}
