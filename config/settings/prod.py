"""Production: every secret comes from the environment, with no defaults; start-up fails without."""

from .base import *  # noqa: F403
from .base import database, env

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": database(env.str("DATABASE_URL"))}
CACHES = {"default": env.cache("CACHE_URL")}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = False
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
