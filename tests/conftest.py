import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config, items):
    """Tests under tests/integration/ carry the `integration` marker; `postgresql` tests are
    left out of the SQLite run (`make unit-postgres` runs them), never skipped."""
    on_postgres = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")
    kept, left_out = [], []
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)
        (left_out if item.get_closest_marker("postgresql") and not on_postgres else kept).append(
            item
        )
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
def worker_factory(tmp_path, settings):
    """Start real Celery worker processes against the test database and broker.

    Workers load the base settings with DATABASE_URL pointing at the database pytest-django
    created, so what they write is visible to the test. All are killed at teardown.
    """
    from django.db import connection

    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.fail(
            "integration tests need TEST_DATABASE_URL (PostgreSQL) and TEST_BROKER_URL (Redis);"
            " run them with `make integration`"
        )
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    started: list[subprocess.Popen] = []

    def start(
        *,
        name: str,
        queues: str = "default,inference-cpu",
        visibility_timeout: int = 3,
        extra_env=None,
    ):
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "readerstudy.settings.base",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "CELERY_UNACKED_RESTORE_THROTTLE": "1",
            # Same data dir as the test process: workers read the volumes it stored.
            "READERSTUDY_DATA_DIR": str(settings.DATA_DIR),
            # The test process's key: it keys de-identification too, so the cases a worker
            # imports match the test's own lookups (original UIDs in labels, case codes).
            "SECRET_KEY": settings.SECRET_KEY,
            **(extra_env or {}),
        }
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "readerstudy.celery", "worker",
                "--queues", queues, "--concurrency", "1", "--pool", "prefork",
                "--hostname", f"{name}@%h", "--loglevel", "INFO", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
            ],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        proc.log_path = tmp_path / f"{name}.log"
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for(predicate, *, timeout: float, interval: float = 0.2, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Debian chromium is required for browser tests (make test installs it)")
    return path


@pytest.fixture
def make_study(db):
    """Build a study of a design with n cases and m readers; open it unless told not to."""
    from readerstudy.studies import services
    from tests.factories import ModelVersionFactory, ReaderFactory, cases_with_series

    def build(design, *, n_cases=6, n_readers=2, seed=1234, washout_days=0, open_it=True):
        study = services.create_study(
            title=f"{design} study",
            design=design,
            randomization_seed=seed,
            washout_days=washout_days,
        )
        services.add_cases(study, cases_with_series(n_cases))
        readers = [ReaderFactory() for _ in range(n_readers)]
        for user in readers:
            services.enroll_reader(study, user)
        services.configure_assistance(study, model_version=ModelVersionFactory())
        if open_it:
            study = services.open_study(study, truth_pending_allowed=True)
        return study, readers

    return build


def pytest_sessionfinish(session, exitstatus):
    """Remove the temporary data dir the test settings created for this run."""
    from django.conf import settings

    data_dir = Path(str(getattr(settings, "DATA_DIR", "")))
    if data_dir.name.startswith("readerstudy-test-") and data_dir.parent == Path(
        tempfile.gettempdir()
    ):
        shutil.rmtree(data_dir, ignore_errors=True)


# --- Browser tests (Debian chromium through Playwright; never a downloaded browser) ----------
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One Playwright per test module: only one sync Playwright may run at a time."""
    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def new_page(browser):
    """More pages beside ``page``, each in a context of its own (another user signed in).
    All are closed at teardown, also when the test fails: a page left open would go on
    calling the live server after the test's database is gone."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()  # a no-op for one the test closed itself


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
