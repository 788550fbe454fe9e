"""Settings shared by every environment.

Everything that varies between machines is read here, through django-environ, and nowhere else.
The embedded defaults (SQLite, local-memory cache, in-process Celery) let a fresh machine run the
app with no services; production sets the URLs and secrets (see ``prod.py`` and ``.env.example``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import django_stubs_ext
import environ
from django.utils.translation import gettext_lazy as _

# Lets admin.ModelAdmin[Model] and friends be subscripted at run time, as the type stubs expect.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Error reports (the DEBUG page, admin e-mails) never show keys or tokens, in any frame.
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.logging.SecretsExceptionReporterFilter"
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "axes",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "apps.core",
    "apps.accounts",
    "apps.integrations",
    "apps.usage",
    "apps.ai_gateway",
    "apps.analytics",
    "apps.roi",
]

MIDDLEWARE = [
    "apps.core.after_response.AfterResponseMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # API endpoints on every AI call's path skip the page middleware below (see the class).
    "apps.core.middleware.ApiFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.core.middleware.ApiLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: answers a locked-out login with 429.
    "axes.middleware.AxesMiddleware",
]

# Login brute-force protection (django-axes): after 5 wrong passwords for one username from one
# IP address, that pair is locked out for 15 minutes; a successful login resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner on every management command's output
# The address is REMOTE_ADDR only, as for the audit log: a client-sent X-Forwarded-For is never
# trusted (it would let a guesser pick a fresh "IP" per attempt).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

ROOT_URLCONF = "config.urls"
# Token-only API endpoints served past the page middleware (apps.core.middleware.ApiFastPathMiddleware).
API_FAST_PATHS = ["/api/v1/chat/completions"]
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
                "apps.core.context_processors.notifications",
                "apps.usage.context_processors.budget_banner",
            ],
        },
    },
]


def database(url: str) -> dict[str, object]:
    """The default database from a URL, with the connection settings every environment shares.

    PostgreSQL runs with ``synchronous_commit`` from ``DATABASE_SYNCHRONOUS_COMMIT`` (default
    ``off``): a commit then returns before its WAL reaches the disk. Nothing can become
    inconsistent; a crash of the *database server* (not of the app) can lose the last fraction
    of a second of commits. The ledger tolerates that by design: every call's spend is
    reconciled against OpenRouter's own activity report, which writes an adjustment for anything
    the gateway did not record. Set it to ``on`` to pay a disk flush (~3 ms here) per write.
    """
    config: dict[str, object] = dict(env.db_url_config(url))
    config["ATOMIC_REQUESTS"] = False
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    if str(config["ENGINE"]).endswith("sqlite3"):
        config["OPTIONS"] = {**SQLITE_OPTIONS, **_options(config)}
    if str(config["ENGINE"]).endswith("postgresql"):
        mode = env.str("DATABASE_SYNCHRONOUS_COMMIT", default="off")
        config["OPTIONS"] = {**_options(config), "options": f"-c synchronous_commit={mode}"}
    return config


# SQLite on embedded defaults is shared by the web app, the Celery worker and beat (three
# processes). WAL lets readers run beside the one writer; a write transaction takes the write lock
# when it begins (IMMEDIATE), so two writers queue on the busy timeout instead of one failing with
# "database is locked" when it upgrades a read lock; synchronous=NORMAL is safe in WAL mode.
SQLITE_OPTIONS: dict[str, object] = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def _options(config: dict[str, object]) -> dict[str, object]:
    options = config.get("OPTIONS")
    return dict(options) if isinstance(options, dict) else {}


def filesystem_broker(folder: Path) -> dict[str, object]:
    """Celery settings for kombu's filesystem transport in ``folder`` (created if missing).

    The broker of the embedded defaults: messages are JSON files that the web app, beat and the
    worker on one machine exchange through a directory, so it needs no server, no extra package and
    no second writer on the app's SQLite database. One machine only; production sets
    ``CELERY_BROKER_URL`` (Redis).
    """
    folders = {name: folder / name for name in ("queue", "control", "processed")}
    for path in folders.values():
        path.mkdir(parents=True, exist_ok=True)
    return {
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "control_folder": str(folders["control"]),
            "processed_folder": str(folders["processed"]),
            "store_processed": False,
        },
    }


DATABASES = {"default": database(env.str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A call's finishing ledger write is handed to a writer thread per process (apps/usage/writer.py)
# instead of running in the request thread after the response. Off: it runs after the response,
# in the request thread. Beyond LEDGER_WRITE_BEHIND_QUEUE waiting rows a request writes inline.
LEDGER_WRITE_BEHIND = env.bool("LEDGER_WRITE_BEHIND", default=True)
LEDGER_WRITE_BEHIND_QUEUE = env.int("LEDGER_WRITE_BEHIND_QUEUE", default=10_000)
# How long the writer lets a batch gather after its first row: more rows per UPDATE and rollup
# statement, so less database work per call (measured: PostgreSQL CPU per call 1.2 ms without,
# 0.3 ms at 100 ms). A row is final this much later after its response; a flush (a graceful
# stop) does not wait for it.
LEDGER_WRITE_BEHIND_LINGER_MS = env.int("LEDGER_WRITE_BEHIND_LINGER_MS", default=100)

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://openrouter-platform")}

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Encryption of secrets at rest (MultiFernet; newest key first) ---------------------------------
FIELD_ENCRYPTION_KEYS: list[str] = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- OpenRouter and the system fallback provider -------------------------------------------------
OPENROUTER_BASE_URL = env.str("OPENROUTER_BASE_URL", default="https://openrouter.ai/api/v1")
OPENROUTER_APP_URL = env.str("OPENROUTER_APP_URL", default="")
OPENROUTER_APP_TITLE = env.str("OPENROUTER_APP_TITLE", default="OpenRouter Platform")
OPENROUTER_TIMEOUT_SECONDS = env.float("OPENROUTER_TIMEOUT_SECONDS", default=60.0)
OPENROUTER_DEADLINE_SECONDS = env.float("OPENROUTER_DEADLINE_SECONDS", default=90.0)
OPENROUTER_DEFAULT_MODEL = env.str("OPENROUTER_DEFAULT_MODEL", default="openai/gpt-4o-mini")
# The platform's own OpenRouter management key: staff provision a key per tenant with it (and the
# activity sync of those tenants reads through it). Empty turns platform-provisioned keys off.
OPENROUTER_PLATFORM_MANAGEMENT_KEY = env.str("OPENROUTER_PLATFORM_MANAGEMENT_KEY", default="")
# The largest monthly limit (USD) staff can give a provisioned key: a typo must not open the account.
OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD = Decimal(
    env.str("OPENROUTER_PLATFORM_KEY_MAX_LIMIT_USD", default="1000")
)
SYSTEM_AI_BASE_URL = env.str("SYSTEM_AI_BASE_URL", default="")
SYSTEM_AI_API_KEY = env.str("SYSTEM_AI_API_KEY", default="")
SYSTEM_AI_MODEL = env.str("SYSTEM_AI_MODEL", default="openai/gpt-4o-mini")
SYSTEM_AI_PROMPT_PRICE_PER_M = Decimal(env.str("SYSTEM_AI_PROMPT_PRICE_PER_M", default="0.15"))
SYSTEM_AI_COMPLETION_PRICE_PER_M = Decimal(env.str("SYSTEM_AI_COMPLETION_PRICE_PER_M", default="0.60"))

AI_SMS_CATEGORIES: list[str] = env.list(
    "AI_SMS_CATEGORIES", default=["booking", "cancellation", "question", "complaint", "spam", "other"]
)

# --- Money -------------------------------------------------------------------------------------
USD_SEK_RATE = Decimal(env.str("USD_SEK_RATE", default="10.50"))

# --- Django REST framework --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.APITokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.DefaultPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "apps.core.api.throttling.AnonThrottle",
        "apps.core.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="600/min"),
        "ai": env.str("API_THROTTLE_AI", default="120/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "apps.core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.core.api.parsers.SafeJSONParser"],  # the API speaks JSON only
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OpenRouter Platform API",
    "DESCRIPTION": (
        "REST API for partner systems: OpenRouter settings and account data, AI features, "
        "the usage ledger and ROI. Authenticate with `Authorization: Bearer <token>` using a "
        "per-user API token. Keys are write-only. JSON bodies are read at their documented types "
        '(money as decimal text such as "12.50", never a JSON number) and may not contain NUL '
        "characters (U+0000) anywhere, property names included."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's documentation is public (it holds no data); every endpoint it documents is not.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {"type": "http", "scheme": "bearer", "description": "Per-user API token"}
        }
    },
    "SECURITY": [{"tokenAuth": []}, {"cookieAuth": []}],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_common_error_responses",
    ],
    # Provider appears in several serializers; one name for it keeps the schema free of warnings.
    "ENUM_NAME_OVERRIDES": {"ProviderEnum": "apps.integrations.models.Provider"},
}

# --- Celery ------------------------------------------------------------------------------------
# With no broker configured the tasks run eagerly in-process (development settings instead queue
# them on a broker that needs no server, for a worker and beat started beside the web app).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- E-mail (budget and credit alerts) ---------------------------------------------------------
# The embedded default prints mails on the console; production sets EMAIL_URL-style settings or
# EMAIL_BACKEND (e.g. SMTP) in the environment.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OpenRouter Platform <noreply@localhost>")

# --- Budgets -------------------------------------------------------------------------------------
# A call without max_tokens is reserved as if it could write this many tokens (or the model's own
# maximum, when smaller).
BUDGET_DEFAULT_MAX_TOKENS = env.int("BUDGET_DEFAULT_MAX_TOKENS", default=4096)

# --- Security defaults that hold everywhere ---------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "apps.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # runserver's access log: Django's own handler for it has no redaction, ours has.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
