"""Environment-driven settings (12-factor). Every variable is documented in README.md.

Defaults give the embedded demo: SQLite under ``READERSTUDY_DATA_DIR``, a filesystem Celery
broker (a real worker process, no broker server) and local file storage.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from kombu import Exchange, Queue

from readerstudy.version import __version__

from .env import env_bool, env_int, env_list, env_str, persistent_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(env_str("READERSTUDY_DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or persistent_secret_key(DATA_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "axes",
    "auditlog",
    "readerstudy.core",
    "readerstudy.accounts",
    "readerstudy.cases",
    "readerstudy.ai",
    "readerstudy.panels",
    "readerstudy.studies",
    "readerstudy.reading",
    "readerstudy.exports",
    "readerstudy.demo",
    "readerstudy.audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Couples model changes to their actor, IP and request id (audit trail).
    "readerstudy.audit.middleware.LazyActorAuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login refused for too many failures into the lockout response (axes, below).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "readerstudy.urls"
WSGI_APPLICATION = "readerstudy.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
# The audit trail: django-auditlog writes its entries into the append-only audit model.
AUDITLOG_LOGENTRY_MODEL = "audit.AuditEntry"
AUDITLOG_DISABLE_ON_RAW_SAVE = True
AUDITLOG_STORE_JSON_CHANGES = True  # before/after as typed JSON values, not their str()
# auditlog's own migrations create its stock table even when swapped out; without them the
# app has no tables (its entries live in audit.AuditEntry), so flushes and migrate stay clean.
MIGRATION_MODULES = {"auditlog": None}
AUTHENTICATION_BACKENDS = [
    # First: refuses any login (form, admin, HTTP Basic) of a locked-out username + IP.
    "readerstudy.accounts.backends.LockoutBackend",
    "readerstudy.accounts.backends.CachedUserBackend",
]
# Failed-login lockout (django-axes, docs/adr/0001-login-lockout-and-frame-tokens.md): after
# READERSTUDY_LOGIN_FAILURE_LIMIT failures of one username from one IP address, its logins
# are refused (429) for READERSTUDY_LOGIN_COOLOFF_MINUTES. Attempts are kept in the database,
# so every process sees them.
AXES_FAILURE_LIMIT = env_int("READERSTUDY_LOGIN_FAILURE_LIMIT", 5)
_login_cooloff_minutes = env_int("READERSTUDY_LOGIN_COOLOFF_MINUTES", 15)
if AXES_FAILURE_LIMIT < 1 or _login_cooloff_minutes < 1:
    raise ValueError(
        "READERSTUDY_LOGIN_FAILURE_LIMIT and READERSTUDY_LOGIN_COOLOFF_MINUTES must be 1 or more"
    )
AXES_COOLOFF_TIME = timedelta(minutes=_login_cooloff_minutes)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "readerstudy.accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # failures are recorded; successful logins are not logged
# Seconds a logged-in user is kept in the cache between requests (0: load it every request).
USER_CACHE_SECONDS = env_int("READERSTUDY_USER_CACHE_SECONDS", 10)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "readerstudy" / "templates"],
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


def _database_from_url(url: str) -> dj_database_url.DBConfig:
    # Connections are kept (no connect per request) and checked before reuse, so a database
    # restart or a dropped idle connection costs one reconnect instead of a failed request.
    config = dj_database_url.parse(
        url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    if config["ENGINE"] == "django.db.backends.postgresql":
        # The reading API's queries join up to seven tables; planning them took longer than
        # running them. Server-side binding lets psycopg prepare a statement once it has run
        # this many times on the connection, and PostgreSQL then reuses its plan.
        prepare_after = env_int("DATABASE_PREPARE_THRESHOLD", 5)
        if prepare_after >= 0:
            config["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": prepare_after}
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The demo's web server and worker share one SQLite file: wait for locks instead of
        # failing, take write locks up front, and let readers run beside the writer (WAL).
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'readerstudy.sqlite3'}")
DATABASES = {"default": _database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# One cache shared by every process (web workers, Celery workers): sessions, the cached user
# and the frame tokens' session check must see a logout or a role change made in another
# process. Redis when READERSTUDY_CACHE_URL says so (compose), else files under the data dir
# (one machine: the demo). A per-process memory cache would keep a logged-out session alive
# in the other web workers.
CACHE_URL = env_str("READERSTUDY_CACHE_URL", "")
CACHES: dict[str, dict[str, Any]]
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL:
    raise ValueError(f"READERSTUDY_CACHE_URL must be a redis:// URL, got {CACHE_URL!r}")
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

# Sessions are read on every request (DICOMweb frames included): keep them in the cache too.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Files: media (de-identified DICOM, model outputs) in Django storage; S3-compatible when
# READERSTUDY_S3_BUCKET is set (django-storages + boto3, `pip install .[s3]`).
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "readerstudy" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
S3_BUCKET = env_str("READERSTUDY_S3_BUCKET")
_media_storage: dict[str, Any]
if S3_BUCKET:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("READERSTUDY_S3_ENDPOINT_URL"),
            "region_name": env_str("READERSTUDY_S3_REGION"),
            "access_key": env_str("READERSTUDY_S3_ACCESS_KEY_ID"),
            "secret_key": env_str("READERSTUDY_S3_SECRET_ACCESS_KEY"),
            "location": env_str("READERSTUDY_S3_PREFIX", "readerstudy"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    _media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    # Uploads waiting for their import (original files): where web and workers both see them,
    # the S3 bucket with the media, else the data dir (share it between machines). Private.
    "uploads": (
        {
            **_media_storage,
            "OPTIONS": {
                **_media_storage["OPTIONS"],
                "location": "/".join(
                    p for p in (_media_storage["OPTIONS"]["location"], "uploads") if p
                ),
            },
        }
        if S3_BUCKET
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(DATA_DIR / "uploads"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        }
    ),
}
# The viewer's content-hashed files (frontend/build.mjs) never change under one name: browsers
# keep them for good. Everything else gets WhiteNoise's short max-age (and gzip/brotli).
WHITENOISE_IMMUTABLE_FILE_TEST = (
    r"/reading/viewer/(viewer-core|viewer-chunk|worker-chunk)\.[A-Z0-9]{8}\.js$"
)
# Keys de-identification (UID remap, date shifts, pseudonyms). Set per site; keep it safe.
DEID_SECRET = env_str("READERSTUDY_DEID_SECRET")
READERSTUDY_UID_PREFIX = env_str("READERSTUDY_UID_PREFIX")
# Case-library uploads (DICOM files or a zip) are streamed by cases.upload_handler into private
# files (0600, never whole in memory) under FILE_UPLOAD_TEMP_DIR, refused (413) once past
# MAX_UPLOAD_BYTES, then moved to STORAGES["uploads"] for a worker to import (cases.staging).
# Other forms (the labels CSV) keep Django's memory handler.
MAX_UPLOAD_BYTES = env_int("READERSTUDY_MAX_UPLOAD_MB", 1024) * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.MemoryFileUploadHandler"]
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_TEMP_DIR = str(DATA_DIR / "upload-tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
DATA_UPLOAD_MAX_NUMBER_FILES = 5000
# Zip archives (uploads and import_cases): all members together may expand to at most this
# many times the archive's size, and to at most this many bytes (members are spooled to a
# temporary folder, checked while they are read).
ARCHIVE_MAX_RATIO = env_int("READERSTUDY_ARCHIVE_MAX_RATIO", 50)
ARCHIVE_MAX_EXPANDED_BYTES = env_int("READERSTUDY_ARCHIVE_MAX_EXPANDED_MB", 4096) * 1024 * 1024
if ARCHIVE_MAX_RATIO < 1 or ARCHIVE_MAX_EXPANDED_BYTES < 1:
    raise ValueError(
        "READERSTUDY_ARCHIVE_MAX_RATIO and READERSTUDY_ARCHIVE_MAX_EXPANDED_MB must be 1 or more"
    )
# A PACS to import from over DICOMweb (QIDO-RS/WADO-RS), e.g. http://orthanc:8042/dicom-web
PACS_DICOMWEB_URL = env_str("READERSTUDY_PACS_URL")
PACS_AUTHORIZATION = env_str("READERSTUDY_PACS_AUTHORIZATION")
# Cached volumes (NIfTI per series) and worker scratch stay on local disk next to the worker.
VOLUME_CACHE_DIR = DATA_DIR / "volumes"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "readerstudy.accounts.authentication.LockoutAwareBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "readerstudy.core.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "readerstudy.core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "readerstudy API",
    "DESCRIPTION": "Blinded AI-assisted reader studies: cases, models, studies, reading, exports.",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets ship in drf-spectacular-sidecar: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Choice sets more than one response shows, under one name each.
    "ENUM_NAME_OVERRIDES": {
        "StudyStatusEnum": "readerstudy.studies.models.ReaderStudy.Status",
        "StudyDesignEnum": "readerstudy.studies.models.Design",
        "JobStatusEnum": "readerstudy.core.jobs.JobStatus",
        "EndpointKindEnum": "readerstudy.studies.models.EndpointKind",
        "HeatmapScaleEnum": "readerstudy.studies.models.HeatmapScale",
    },
}

# --- Celery -------------------------------------------------------------------------------
# Embedded default: kombu's filesystem transport under the data dir, so `make demo` runs a
# real worker process without a broker server. Set CELERY_BROKER_URL for Redis/RabbitMQ.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Unacknowledged messages return to the queue after this many seconds (a worker that
    # died mid-task). Keep it above the longest task's hard time limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 7200),
        # How often a worker looks for such messages (seconds; every Nth look scans).
        "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10),
        "unacked_restore_throttle": env_int("CELERY_UNACKED_RESTORE_THROTTLE", 10),
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_CACHE_BACKEND = "django-cache"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 1800)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 2100)
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (
    Queue("default", Exchange("default"), routing_key="default"),
    Queue("inference-cpu", Exchange("inference-cpu"), routing_key="inference-cpu"),
    Queue("inference-gpu", Exchange("inference-gpu"), routing_key="inference-gpu"),
)
CELERY_TASK_ROUTES = {
    "readerstudy.ai.tasks.*": {"queue": env_str("READERSTUDY_INFERENCE_QUEUE", "inference-cpu")},
    "readerstudy.cases.tasks.*": {"queue": "default"},
}
# Model jobs go to READERSTUDY_INFERENCE_QUEUE, except those of a model whose manifest says
# requirements.device "cuda" or that is listed here: those go to inference-gpu.
INFERENCE_GPU_MODELS = env_list("READERSTUDY_INFERENCE_GPU_MODELS", [])
# Where workers run models: auto (CUDA when present, else CPU), cpu, cuda or cuda:N.
INFERENCE_DEVICE = env_str("READERSTUDY_INFERENCE_DEVICE", "auto")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # axes: failed logins and lockouts are warnings; successful logins are not logged.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
