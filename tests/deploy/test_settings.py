"""Settings from the environment, checked in fresh interpreter processes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args, env_extra, tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "SECRET_KEY", "CELERY_", "READERSTUDY_", "DJANGO_"))
    }
    env.update({"READERSTUDY_DATA_DIR": str(tmp_path / "data"), **env_extra})
    env.setdefault("DJANGO_SETTINGS_MODULE", "readerstudy.settings.base")
    if args[0] == "shell":  # run code after django.setup(), without the shell's banner
        command = [sys.executable, "-c", "import django; django.setup()\n" + args[2]]
    else:
        command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)


def test_production_settings_pass_check_deploy(tmp_path):
    result = _run(
        ["check", "--deploy", "--fail-level", "WARNING"],
        {
            "DJANGO_SETTINGS_MODULE": "readerstudy.settings.production",
            "SECRET_KEY": "k" * 20 + "Zq8#vL2@pW5^nR7&tY1*uI3(oP6)aS9-dF4_gH0+jK",
            "ALLOWED_HOSTS": "readerstudy.example.org",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize("hosts", ["*", "readerstudy.example.org,*"])
def test_production_refuses_a_wildcard_allowed_hosts(tmp_path, hosts):
    result = _run(
        ["check", "--deploy"],
        {
            "DJANGO_SETTINGS_MODULE": "readerstudy.settings.production",
            "SECRET_KEY": "k" * 20 + "Zq8#vL2@pW5^nR7&tY1*uI3(oP6)aS9-dF4_gH0+jK",
            "ALLOWED_HOSTS": hosts,
        },
        tmp_path,
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list this site's host names" in result.stderr


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = _run(
        ["check"], {"DJANGO_SETTINGS_MODULE": "readerstudy.settings.production"}, tmp_path
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_demo_secret_key_is_generated_once_and_persisted(tmp_path):
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = _run(["shell", "-c", code], {}, tmp_path)
    second = _run(["shell", "-c", code], {}, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip()
    assert len(first.stdout.strip()) >= 50
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.read_text().strip() == first.stdout.strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_database_and_broker_come_from_the_environment(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d.get('HOST') or '-', settings.CELERY_BROKER_URL, settings.DEBUG)"
    )
    default = _run(["shell", "-c", code], {}, tmp_path)
    assert default.returncode == 0, default.stderr
    engine, name, _, broker, debug = default.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "data" / "readerstudy.sqlite3")
    assert broker == "filesystem://"
    assert debug == "False"
    custom = _run(
        ["shell", "-c", code],
        {
            "DATABASE_URL": "postgres://u:p@db.internal:5433/rs",
            "CELERY_BROKER_URL": "redis://broker:6379/0",
            "DEBUG": "yes",
        },
        tmp_path,
    )
    assert custom.returncode == 0, custom.stderr
    assert custom.stdout.split() == [
        "django.db.backends.postgresql", "rs", "db.internal", "redis://broker:6379/0", "True"
    ]  # fmt: skip


def test_bad_boolean_is_a_clear_error(tmp_path):
    result = _run(["check"], {"DEBUG": "maybe"}, tmp_path)
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_s3_storage_is_selected_by_bucket_variable(tmp_path):
    code = "from django.conf import settings; print(settings.STORAGES['default']['BACKEND'])"
    result = _run(["shell", "-c", code], {"READERSTUDY_S3_BUCKET": "scans"}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "storages.backends.s3.S3Storage"


def test_every_environment_variable_read_by_settings_is_documented():
    import re

    readme = (ROOT / "README.md").read_text()
    names = set()
    for path in (ROOT / "readerstudy" / "settings").glob("*.py"):
        names.update(re.findall(r'env_(?:str|bool|int|list)\("([A-Z_0-9]+)"', path.read_text()))
        names.update(re.findall(r'os\.environ(?:\.get)?\(?\[?"([A-Z_0-9]+)"', path.read_text()))
    assert len(names) > 15
    missing = sorted(n for n in names if f"`{n}`" not in readme)
    assert not missing, f"document these in README.md: {missing}"


def _database_options(env_extra, tmp_path) -> str:
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    result = _run(["shell", "-c", code], env_extra, tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_postgresql_prepares_repeated_statements_unless_turned_off(tmp_path):
    pg = {"DATABASE_URL": "postgres://u:p@db.example.org:5432/readerstudy"}
    assert _database_options(pg, tmp_path) == (
        "{'server_side_binding': True, 'prepare_threshold': 5}"
    )
    off = _database_options({**pg, "DATABASE_PREPARE_THRESHOLD": "-1"}, tmp_path)
    assert off == "{}"
    assert "'timeout': 30" in _database_options({}, tmp_path)  # SQLite keeps its own


def _cache(env_extra, tmp_path) -> str:
    code = "from django.conf import settings; c = settings.CACHES['default']; print(c['BACKEND'], c['LOCATION'])"
    return _run(["shell", "-c", code], env_extra, tmp_path)


def test_the_cache_is_shared_by_every_process_by_default_and_redis_when_configured(tmp_path):
    """A per-process memory cache would keep a logged-out session (cached_db) alive in the
    other web workers."""
    default = _cache({}, tmp_path)
    assert default.returncode == 0, default.stderr
    assert default.stdout.split() == [
        "django.core.cache.backends.filebased.FileBasedCache", str(tmp_path / "data" / "cache")
    ]  # fmt: skip
    redis = _cache({"READERSTUDY_CACHE_URL": "redis://cache:6379/1"}, tmp_path)
    assert redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache", "redis://cache:6379/1"
    ]  # fmt: skip
    wrong = _cache({"READERSTUDY_CACHE_URL": "memcached://x"}, tmp_path)
    assert wrong.returncode != 0 and "READERSTUDY_CACHE_URL must be a redis" in wrong.stderr
