"""Settings for the test suite.

Unit tests run on SQLite with eager Celery tasks. Integration tests (marker `integration`)
set DATABASE_URL / CELERY_BROKER_URL to real PostgreSQL + Redis and READERSTUDY_REAL_CELERY=1,
and start real worker processes.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("READERSTUDY_DATA_DIR", tempfile.mkdtemp(prefix="readerstudy-test-"))
# Integration runs point these at real PostgreSQL / Redis (see scripts/ensure-services.sh).
os.environ["DATABASE_URL"] = os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
os.environ["CELERY_BROKER_URL"] = os.environ.get("TEST_BROKER_URL") or "memory://"

from .base import *  # noqa: E402, F403
from .base import DATA_DIR  # noqa: E402
from .env import env_bool  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REAL_CELERY = env_bool("READERSTUDY_REAL_CELERY", False)
CELERY_TASK_ALWAYS_EAGER = not REAL_CELERY
CELERY_TASK_EAGER_PROPAGATES = not REAL_CELERY
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(DATA_DIR) / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "uploads": STORAGES["uploads"],  # noqa: F405 - the data dir's, as in base
}
WHITENOISE_AUTOREFRESH = True
(Path(DATA_DIR) / "static").mkdir(parents=True, exist_ok=True)
