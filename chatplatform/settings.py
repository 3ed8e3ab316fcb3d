"""Settings for the chat platform.

Every value comes from an environment variable (or a `.env` file next to `manage.py`) with a
safe embedded default: with nothing set, the platform runs on SQLite, an in-memory channel
layer, the local-memory cache and a file-system Celery broker, so a fresh checkout needs no
services at all. `DATABASE_URL` and `REDIS_URL` switch it to PostgreSQL and Redis.
"""

import ipaddress
import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# An empty value in .env counts as unset, here and below.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-set-DJANGO_SECRET_KEY-in-production-0123456789"  # noqa: S105  (debug only)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "knox",
    "django_celery_beat",
    "chatplatform",
    "chatplatform.runtime_config",
    "chatplatform.flags",
    "chatplatform.jobs",
    "chatplatform.telemetry",
    "chatplatform.monitoring",
    "conversations",
    "tracking",
    "analytics",
    "tutor",
    "tutor.content",
    "tutor.learning",
]

MIDDLEWARE = [
    # First, so that it times the whole request (chatplatform/monitoring: /metrics).
    "chatplatform.monitoring.middleware.RequestLatencyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatplatform.urls"
ASGI_APPLICATION = "chatplatform.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request may run on a different thread, so persistent per-thread
    # connections leak; psycopg's pool (with CONN_MAX_AGE=0, which the pool requires) keeps
    # connection reuse without that.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # With the pool, Django passes psycopg_pool's `check=ConnectionPool.check_connection`: a
    # connection is tested before it is handed out, so one the server dropped while it sat in the
    # pool (a restart, pg_terminate_backend) is replaced, not used.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
else:
    # SQLite is the zero-setup default: wait for locks instead of failing when web, worker and
    # beat write at the same time.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker ----------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=2.0)

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chatplatform",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "chatplatform"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery ----------------------------------------------------------------------------------
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Without Redis the broker is kombu's file-system transport: web, worker and beat on one
# machine share a folder under var/, which needs no service at all. chatplatform.file_broker keeps
# a fetched message until it is acknowledged, so a worker killed mid-task loses nothing.
# (kombu warns about a file-system URL without a host, hence the explicit "localhost".)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://localhost//")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "chatplatform.file_broker:Transport"
    CELERY_BROKER_DIR.mkdir(parents=True, exist_ok=True)
    (CELERY_BROKER_DIR / "processed").mkdir(exist_ok=True)
    (CELERY_BROKER_DIR / "control").mkdir(exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "data_folder_in": str(CELERY_BROKER_DIR),
        "data_folder_out": str(CELERY_BROKER_DIR),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # Redis hands a message that has not been acknowledged this long to another worker: just over
    # the hard time limit, after which the task that held it has been killed (a tenth more and
    # 5 s for the fetch and the acknowledgement). Looked for every 10 s, not every 100 s.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": CELERY_TASK_TIME_LIMIT + CELERY_TASK_TIME_LIMIT // 10 + 5,
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "maintenance"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"

# --- Encryption of stored secrets ------------------------------------------------------------
FIELD_ENCRYPTION_KEY_FILE = VAR_DIR / "field_encryption.key"


def _fernet_keys_checked(keys: list[str], source: str) -> list[str]:
    """The keys, if each is a Fernet key: a wrong one must stop start-up, not the first request
    that reads a secret. The message names the key's position, never the key."""
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{source}: key {position} of {len(keys)} is not a valid Fernet key (32 url-safe "
                "base64-encoded bytes, as cryptography's Fernet.generate_key() makes)."
            ) from None
    return keys


def _field_encryption_keys() -> list[str]:
    keys = [key.strip() for key in env.list("FIELD_ENCRYPTION_KEY", default=[]) if key.strip()]
    if keys:
        return _fernet_keys_checked(keys, "FIELD_ENCRYPTION_KEY")
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DJANGO_DEBUG is off.")
    if not FIELD_ENCRYPTION_KEY_FILE.exists():
        from cryptography.fernet import Fernet

        FIELD_ENCRYPTION_KEY_FILE.write_text(Fernet.generate_key().decode())
        FIELD_ENCRYPTION_KEY_FILE.chmod(0o600)
        logging.getLogger("chatplatform").warning(
            "FIELD_ENCRYPTION_KEY is not set: generated a local key in %s. Set the variable in "
            "production and keep it safe; secrets stored with this key cannot be read without it.",
            FIELD_ENCRYPTION_KEY_FILE,
        )
    stored = FIELD_ENCRYPTION_KEY_FILE.read_text().strip()
    return _fernet_keys_checked([stored], str(FIELD_ENCRYPTION_KEY_FILE))


FIELD_ENCRYPTION_KEYS = _field_encryption_keys()

# --- AI providers ----------------------------------------------------------------------------
OPENAI_API_KEY = env("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env("OPENAI_BASE_URL", default="") or None
OPENAI_CHAT_MODEL = env("OPENAI_CHAT_MODEL", default="gpt-4o-mini")
OPENAI_VISION_MODEL = env("OPENAI_VISION_MODEL", default="gpt-4o-mini")
OPENAI_EMBEDDING_MODEL = env("OPENAI_EMBEDDING_MODEL", default="text-embedding-3-small")
OPENAI_TIMEOUT_SECONDS = env.float("OPENAI_TIMEOUT_SECONDS", default=30.0)
OPENAI_MAX_CONNECTIONS = env.int("OPENAI_MAX_CONNECTIONS", default=200)
# Retries of the SDK before a response starts (connection errors, 408/409/429/5xx).
OPENAI_MAX_RETRIES = env.int("OPENAI_MAX_RETRIES", default=2)
# 0 means the embedding model's native size; text-embedding-3 models can return fewer dimensions.
OPENAI_EMBEDDING_DIMENSIONS = env.int("OPENAI_EMBEDDING_DIMENSIONS", default=0)
# Questions whose embedding each web process remembers (0: none); see chatplatform/ai/query_embeddings.py.
QUERY_EMBEDDING_CACHE_SIZE = env.int("QUERY_EMBEDDING_CACHE_SIZE", default=2048)
# How long a web process answers from a local index it holds before asking whether another
# process changed it, and from a prompt template before reading it again (seconds).
LOCAL_VECTOR_RECHECK_SECONDS = env.float("LOCAL_VECTOR_RECHECK_SECONDS", default=1.0)
PROMPT_TEMPLATE_RECHECK_SECONDS = env.float("PROMPT_TEMPLATE_RECHECK_SECONDS", default=1.0)
# An edit of a chatbot, its flows or its commerce integration saved in another process reaches new
# chat connections within this time (conversations/chatbot_configs.py).
CHATBOT_CONFIG_RECHECK_SECONDS = env.float("CHATBOT_CONFIG_RECHECK_SECONDS", default=1.0)
# Size of the feature-hashed vectors of the local embedder.
LOCAL_EMBEDDING_DIMENSION = env.int("LOCAL_EMBEDDING_DIMENSION", default=512)
AI_PROVIDER = env("AI_PROVIDER", default="") or ("openai" if OPENAI_API_KEY else "local")
if AI_PROVIDER not in {"openai", "local"}:
    raise ImproperlyConfigured(f"AI_PROVIDER must be 'openai' or 'local', not {AI_PROVIDER!r}.")

# Control-plane host of Pinecone; unset means Pinecone's public API.
PINECONE_CONTROLLER_HOST = env("PINECONE_CONTROLLER_HOST", default="") or None
PINECONE_TIMEOUT_SECONDS = env.float("PINECONE_TIMEOUT_SECONDS", default=10.0)

# --- Knowledge base ------------------------------------------------------------------------
# Largest document staff or integrations may upload.
KB_MAX_UPLOAD_BYTES = env.int("KB_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
# Passages of about this many tokens (cl100k), each repeating the end of the one before it.
KB_CHUNK_TOKENS = env.int("KB_CHUNK_TOKENS", default=300)
KB_CHUNK_OVERLAP_TOKENS = env.int("KB_CHUNK_OVERLAP_TOKENS", default=50)
# Every document (knowledge base and tutor): a longer PDF, or a slower read, is refused.
DOCUMENT_MAX_PAGES = env.int("DOCUMENT_MAX_PAGES", default=2000)
DOCUMENT_EXTRACTION_TIMEOUT_SECONDS = env.float("DOCUMENT_EXTRACTION_TIMEOUT_SECONDS", default=60.0)

# --- Tutor ------------------------------------------------------------------------------------
# Learners' API tokens (django-rest-knox): `Authorization: Bearer <token>`, expiring, revocable.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(hours=env.int("TUTOR_TOKEN_TTL_HOURS", default=24)),
    "TOKEN_LIMIT_PER_USER": env.int("TUTOR_TOKEN_LIMIT_PER_USER", default=20),
}
# Uploads: bytes per file, files per request and PDF pages; a larger file is refused up front.
TUTOR_MAX_UPLOAD_BYTES = env.int("TUTOR_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
TUTOR_MAX_FILES_PER_REQUEST = env.int("TUTOR_MAX_FILES_PER_REQUEST", default=10)
TUTOR_MAX_PAGES = env.int("TUTOR_MAX_PAGES", default=500)
# Extraction runs in a child process with these limits (wall seconds, address space in MB).
TUTOR_EXTRACTION_TIMEOUT_SECONDS = env.float("TUTOR_EXTRACTION_TIMEOUT_SECONDS", default=60.0)
TUTOR_EXTRACTION_MEMORY_MB = env.int("TUTOR_EXTRACTION_MEMORY_MB", default=1024)

# --- HTTP, static and media ------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "chatplatform.errors.api_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
    # Throttles key visitors by REMOTE_ADDR, as the chat's per-address limits do: behind a proxy it
    # comes from X-Forwarded-For only when the proxy is in TRUSTED_PROXIES (chatplatform/proxies.py).
    "NUM_PROXIES": 0,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chat platform API",
    "DESCRIPTION": "Shop chatbots and the AI tutor. Errors use one shape: "
    '{"error": {"code": ..., "message": ..., "fields": {...}}}.',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Several components have a `status` enum; the messages' one is named for what it is.
    "ENUM_NAME_OVERRIDES": {
        "MessageStatusEnum": "conversations.chat.models.Message.Status",
        # A knowledge-base document's and a tutor document's statuses are the same four.
        "DocumentStatusEnum": "tutor.models.Document.Status",
        "DocumentKindEnum": "tutor.models.Document.Kind",
        "QuestionTypeEnum": "tutor.content.models.Question.Type",
    },
}

# --- Production hardening (`manage.py check --deploy` is clean with DJANGO_DEBUG=False) ------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # HTTP clients log request URLs at INFO, and URLs can hold order numbers: keep them quiet.
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
    },
}

# The staff account `manage.py ensure_admin` creates on first run (make run).
SUPERUSER_USERNAME = env("DJANGO_SUPERUSER_USERNAME", default="admin")
SUPERUSER_PASSWORD = env("DJANGO_SUPERUSER_PASSWORD", default="")

# --- Chat limits -----------------------------------------------------------------------------
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=16384)
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=2000)
CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION = env.int("CHAT_MESSAGES_PER_MINUTE_PER_CONNECTION", default=20)
CHAT_MESSAGES_PER_MINUTE_PER_IP = env.int("CHAT_MESSAGES_PER_MINUTE_PER_IP", default=60)
# Open chat websockets per client IP, counted in each web process (conversations/rate_limits.py).
CHAT_MAX_CONNECTIONS_PER_IP = env.int("CHAT_MAX_CONNECTIONS_PER_IP", default=20)
# On SIGTERM a web process gives the answers in flight this long to finish; it saves the rest as
# `interrupted` with what they have (conversations/web_process.py).
CHAT_SHUTDOWN_GRACE_SECONDS = env.float("CHAT_SHUTDOWN_GRACE_SECONDS", default=5.0)

# --- Order tracking --------------------------------------------------------------------------
ORDER_LOOKUP_MAX_FAILURES = env.int("ORDER_LOOKUP_MAX_FAILURES", default=5)

# --- Image uploads ---------------------------------------------------------------------------
# Largest image a shopper or integration may upload; a request declaring a larger body is
# refused before it is read.
IMAGE_MAX_UPLOAD_BYTES = env.int("IMAGE_MAX_UPLOAD_BYTES", default=10 * 1024 * 1024)
# Decoded pixels (all frames of an animation together), checked from the header before decoding.
# Decoding holds about 4 bytes per pixel in the web process (100 MB at 25 MP), twice that while
# a JPEG's EXIF rotation or a mode conversion runs; a small file can declare the maximum.
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=25_000_000)
IMAGE_MAX_FRAMES = env.int("IMAGE_MAX_FRAMES", default=50)
# Uploaded images and their descriptions are deleted this many days after upload.
IMAGE_RETENTION_DAYS = env.int("IMAGE_RETENTION_DAYS", default=30)
# Images a chat visitor may upload (conversations/images/throttles.py), as DRF rates: N/second,
# N/minute, N/hour or N/day. Staff are not limited.
IMAGE_UPLOAD_RATE_PER_CONVERSATION = env("IMAGE_UPLOAD_RATE_PER_CONVERSATION", default="10/hour")
IMAGE_UPLOAD_RATE_PER_ADDRESS = env("IMAGE_UPLOAD_RATE_PER_ADDRESS", default="30/hour")
# Images an integration may upload per API key, since each is described by the vision model.
IMAGE_UPLOAD_RATE_PER_API_KEY = env("IMAGE_UPLOAD_RATE_PER_API_KEY", default="600/hour")
for _rate_name in (
    "IMAGE_UPLOAD_RATE_PER_CONVERSATION",
    "IMAGE_UPLOAD_RATE_PER_ADDRESS",
    "IMAGE_UPLOAD_RATE_PER_API_KEY",
):
    if not re.fullmatch(r"\d+/(second|minute|hour|day)", globals()[_rate_name]):
        raise ImproperlyConfigured(
            f"{_rate_name} must be a number of uploads per second, minute, hour or day, such as 10/hour."
        )

# --- The web process -------------------------------------------------------------------------
# Largest request body the web process takes (chatplatform/server.py): a larger one is refused
# with 413 before it is read. By default the largest upload plus room for the multipart framing.
HTTP_MAX_BODY_BYTES = env.int(
    "HTTP_MAX_BODY_BYTES", default=max(KB_MAX_UPLOAD_BYTES, IMAGE_MAX_UPLOAD_BYTES) + 1024 * 1024
)
# Addresses or networks (CIDR) of the reverse proxies in front of the web process: only from these
# are X-Forwarded-For and X-Forwarded-Proto believed (chatplatform/proxies.py). Empty: from none.
TRUSTED_PROXIES = [proxy.strip() for proxy in env.list("TRUSTED_PROXIES", default=[]) if proxy.strip()]
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as error:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_proxy!r} is not an address or network.") from error

# --- Order tracking: commerce APIs ------------------------------------------------------------
# Per request attempt, the whole call with its retries, and the first backoff step (it doubles,
# with full jitter); a server's Retry-After is honoured only within the budget.
TRACKING_HTTP_TIMEOUT_SECONDS = env.float("TRACKING_HTTP_TIMEOUT_SECONDS", default=10.0)
TRACKING_HTTP_BUDGET_SECONDS = env.float("TRACKING_HTTP_BUDGET_SECONDS", default=20.0)
TRACKING_HTTP_BACKOFF_SECONDS = env.float("TRACKING_HTTP_BACKOFF_SECONDS", default=0.5)
# oauthlib logs the signed parameters, the OAuth access token among them, at DEBUG.
LOGGING["loggers"]["oauthlib"] = {"level": "WARNING"}

# --- Telemetry of AI and external calls (chatplatform/telemetry) ------------------------------
# Records of every provider, vector-store, commerce and job call, written in batches by a
# background thread of each process; see docs/operations.md, "Telemetry".
TELEMETRY_ENABLED = env.bool("TELEMETRY_ENABLED", default=True)
TELEMETRY_FLUSH_INTERVAL_SECONDS = env.float("TELEMETRY_FLUSH_INTERVAL_SECONDS", default=2.0)
# Records waiting to be written; beyond this new ones are dropped (and counted), not queued.
TELEMETRY_BUFFER_MAX = env.int("TELEMETRY_BUFFER_MAX", default=10000)
# When set (e.g. http://collector:4318), spans and metrics also go to this OTLP/HTTP endpoint.
OTEL_EXPORTER_OTLP_ENDPOINT = env("OTEL_EXPORTER_OTLP_ENDPOINT", default="")

# --- Background jobs and the schedule (chatplatform/jobs, chatplatform/retention.py) ----------
# The Celery queue that carries the jobs' wake-up messages (the worker must consume it).
JOBS_QUEUE = env("JOBS_QUEUE", default="jobs")
# A running job's lease: renewed by its progress steps and every third of this; a job whose lease
# has expired (its worker died) is taken back by the sweeper, every minute.
JOBS_LEASE_SECONDS = env.float("JOBS_LEASE_SECONDS", default=60.0)
# A transient failure is retried after this, doubling per attempt up to the maximum, with jitter.
JOBS_RETRY_BACKOFF_SECONDS = env.float("JOBS_RETRY_BACKOFF_SECONDS", default=10.0)
JOBS_RETRY_BACKOFF_MAX_SECONDS = env.float("JOBS_RETRY_BACKOFF_MAX_SECONDS", default=600.0)
# One wake-up runs jobs back to back for at most this long before it lets its worker go.
JOBS_DRAIN_SECONDS = env.float("JOBS_DRAIN_SECONDS", default=30.0)
# Finished jobs, and the other records with a registered retention cleaner, are deleted after this.
RETENTION_DAYS = env.int("RETENTION_DAYS", default=30)
# Cleaners of large tables delete this many rows per transaction (chatplatform/retention.py).
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=2000)
# Exactly one beat sends the schedule: the one holding this lock, renewed every few seconds.
BEAT_LOCK_SECONDS = env.float("BEAT_LOCK_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULER = "chatplatform.jobs.beat:LockedDatabaseScheduler"

# --- Conversation analytics (analytics/; docs/analytics.md) -----------------------------------
# Performance records, ratings, insights, order lookups, context chunks and conversations are
# deleted after this many days (daily rollups are kept), in batches of this many rows, each its
# own short transaction.
ANALYTICS_RETENTION_DAYS = env.int("ANALYTICS_RETENTION_DAYS", default=30)
ANALYTICS_RETENTION_BATCH_SIZE = env.int("ANALYTICS_RETENTION_BATCH_SIZE", default=RETENTION_BATCH_SIZE)
# Defaults of the runtime config key `analytics_quiet_minutes`: a conversation quiet this long
# after an answer counts as resolved (assumed), and is then classified and scored.
ANALYTICS_RESOLUTION_ASSUME_MINUTES = env.int("ANALYTICS_RESOLUTION_ASSUME_MINUTES", default=30)
ANALYTICS_ANALYSIS_QUIET_MINUTES = env.int("ANALYTICS_ANALYSIS_QUIET_MINUTES", default=30)

# --- Calls to providers and external systems (chatplatform/calls) ------------------------------
# Requests sent at the same time when one embeddings call holds more than
# OPENAI_EMBEDDING_BATCH_SIZE texts (document ingestion: DOCUMENT_EMBED_CONCURRENCY).
OPENAI_EMBEDDING_CONCURRENCY = env.int("OPENAI_EMBEDDING_CONCURRENCY", default=1)

# --- Runtime config and feature flags ---------------------------------------------------------
# How often a process checks the database for config or flag changes made elsewhere
# (chatplatform/runtime_config/revisions.py); the process that saves a change reads it at once.
RUNTIME_CONFIG_RECHECK_SECONDS = env.float("RUNTIME_CONFIG_RECHECK_SECONDS", default=1.0)

# --- Health and metrics (chatplatform/monitoring) -----------------------------------------------
# /metrics answers a request with `Authorization: Bearer <METRICS_TOKEN>`, or staff; empty: staff only.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# prometheus-client's multiprocess folder: every web, worker and beat process writes its figures
# there and /metrics adds them up, so the processes of one machine must share it. `make run` empties
# it at start. The variable must be in the environment before prometheus-client is first imported.
PROMETHEUS_MULTIPROC_DIR = Path(env("PROMETHEUS_MULTIPROC_DIR", default=str(VAR_DIR / "prometheus")))
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# Prometheus scrapes over the internal network, like the health checks.
SECURE_REDIRECT_EXEMPT += [r"^metrics$"]

# --- Document ingestion (chatplatform/documents) ----------------------------------------------
# Batches of passages embedded at the same time while one document is ingested (each batch is
# stored and reported in order, as it is now with 1).
DOCUMENT_EMBED_CONCURRENCY = env.int("DOCUMENT_EMBED_CONCURRENCY", default=1)
