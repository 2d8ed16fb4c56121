"""Settings, read from the environment (django-environ).

With no DATABASE_URL the app runs on a SQLite file and with no REDIS_URL Celery uses a broker that needs no
server (kombu's filesystem transport); with `DATABASE_URL=postgres://…` and `REDIS_URL=redis://…` the same code
runs on PostgreSQL and Redis. See DESIGN.md, "embedded default".
"""

from pathlib import Path

import django_stubs_ext
import environ

# Lets ModelAdmin[...] and other generics from django-stubs be subscripted at runtime.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("LB_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Key for encrypting OAuth tokens and client secrets at rest (Fernet, urlsafe base64 of 32 bytes). Without it a
# key is derived from SECRET_KEY, which is acceptable for the demo only; production sets its own.
LB_ENCRYPTION_KEY = env.str("LB_ENCRYPTION_KEY", default="")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "books",
    "crm_integration",
    "sync",
    "triggers",
    # Installed so that its models are type-checked and its migrations checked; the database router keeps its
    # tables out of this database. It runs as its own process with crm_sandbox.settings.
    "crm_sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "books.middleware.OrganizationMiddleware",
]

ROOT_URLCONF = "config.urls"
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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "books.context_processors.organization",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'ledgerbridge.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web process and the worker write the same file without
    # "database is locked" errors; the timeout makes a writer wait for the other instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not memory, so that a worker or server process started by a test sees the test database
    # (pytest-django adds a per-xdist-worker suffix).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_ledgerbridge.sqlite3")}
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["config.routers.SandboxRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "books.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "books:login"
LOGIN_REDIRECT_URL = "books:dashboard"
LOGOUT_REDIRECT_URL = "books:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise warns for every request when the directory is missing (it is filled by collectstatic in deployments).
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str("LB_STATICFILES_STORAGE", default="django.contrib.staticfiles.storage.StaticFilesStorage")
    },
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: Redis when REDIS_URL is set, otherwise kombu's filesystem transport (no server needed).
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "celery" / "queue"),
        "data_folder_out": str(VAR_DIR / "celery" / "queue"),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
)
if not REDIS_URL:
    for sub in ("queue", "processed", "control"):
        (VAR_DIR / "celery" / sub).mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="ledgerbridge")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# How much lower the worker's CPU priority is than the web server's (a nice increment, 0-19; config/celery.py).
LB_WORKER_NICE = env.int("LB_WORKER_NICE", default=10)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "books.authentication.ZohoOAuthTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "books.apis.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ledgerbridge Books API",
    "DESCRIPTION": "Zoho Books v3 compatible API of Ledgerbridge.",
    "VERSION": "3.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Zoho's paths put several operations on one URL; each is documented from its own view (books.apis.routing).
    "PREPROCESSING_HOOKS": ["books.apis.routing.expand_routes"],
    "SCHEMA_PATH_PREFIX": "/books/v3",
    "COMPONENT_SPLIT_REQUEST": False,
    # Swagger UI is served from the sidecar package: nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}

# The sync engine (sync/): records a pull page (≤200, Zoho's most), records a push call (≤100), the lease of a run
# (renewed at every page; a killed worker's expires after this), how often deletions are checked per CRM module, and
# how far back an incremental pull looks past the moment the previous one started.
SYNC_PAGE_SIZE = env.int("SYNC_PAGE_SIZE", default=200)
SYNC_PUSH_BATCH = env.int("SYNC_PUSH_BATCH", default=100)
SYNC_LOCK_TTL_SECONDS = env.int("SYNC_LOCK_TTL_SECONDS", default=300)
SYNC_DELETIONS_CHECK_MINUTES = env.float("SYNC_DELETIONS_CHECK_MINUTES", default=30.0)
SYNC_CURSOR_MARGIN_SECONDS = env.float("SYNC_CURSOR_MARGIN_SECONDS", default=120.0)

# The CRM sandbox the demo and the tests talk to (its own process; see crm_sandbox/).
CRM_SANDBOX_URL = env.str("CRM_SANDBOX_URL", default="http://127.0.0.1:8090")
# Public base URL of this app, used to build the webhook URL the CRM calls.
LB_PUBLIC_URL = env.str("LB_PUBLIC_URL", default="http://127.0.0.1:8000")
# The base URL the CRM reaches this app at for its notifications ({base}/integrations/zoho-crm/notify/).
LB_PUBLIC_BASE_URL = env.str("LB_PUBLIC_BASE_URL", default=LB_PUBLIC_URL)
# Largest notification body accepted (Zoho sends ids and field names, a few KB at most).
TRIGGERS_MAX_BODY_BYTES = env.int("TRIGGERS_MAX_BODY_BYTES", default=64 * 1024)
# Zoho's limit on concurrent calls per CRM org, shared by every web and worker process through Redis (REDIS_URL).
LB_CRM_SHARED_CALL_SLOTS = env.bool("LB_CRM_SHARED_CALL_SLOTS", default=True)
# The OAuth client (Zoho API Console: a Server-based Application whose redirect URI is
# {LB_PUBLIC_URL}/settings/zoho-apps/oauth/callback/) that Settings › Zoho Apps › Connect starts from. All optional:
# an admin can enter another client. `make run` points them at the local CRM sandbox.
LB_ZOHO_DATA_CENTER = env.str("LB_ZOHO_DATA_CENTER", default="us")
LB_ZOHO_ACCOUNTS_URL = env.str("LB_ZOHO_ACCOUNTS_URL", default="")
LB_ZOHO_API_DOMAIN = env.str("LB_ZOHO_API_DOMAIN", default="")
LB_ZOHO_CLIENT_ID = env.str("LB_ZOHO_CLIENT_ID", default="")
LB_ZOHO_CLIENT_SECRET = env.str("LB_ZOHO_CLIENT_SECRET", default="")

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # urllib3 logs full URLs at DEBUG, and OAuth grant URLs carry secrets: keep it quiet.
        "urllib3": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
    },
}
