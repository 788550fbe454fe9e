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
# Platform-provisioned keys are off unless a test gives the emulator's management key.
OPENROUTER_PLATFORM_MANAGEMENT_KEY = ""
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min", "ai": "10000/min"}
# A test's transaction is invisible to the writer thread's own connection: finishing writes stay
# in the request thread (tests/usage/test_ledger_writer.py turns the writer on, with real commits).
LEDGER_WRITE_BEHIND = False
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://tests")}
# django-axes needs the request in authenticate(), which the test client's login() does not pass;
# the lockout tests switch it on (tests/accounts/test_login_lockout.py).
AXES_ENABLED = False
