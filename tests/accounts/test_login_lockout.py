"""Failed-login lockout (django-axes): the login page, the admin and HTTP Basic on the API."""

import base64
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from tests.factories import PASSWORD, AdminFactory, ReaderFactory

pytestmark = pytest.mark.django_db

API = "/api/reading/studies/"


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _fail_logins(client, url: str, username: str, **extra):
    """As many wrong passwords as the limit allows; returns the last response."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(url, {"username": username, "password": "wrong"}, **extra)
    return response


def _cool_off_passes():
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )


def test_the_login_page_locks_a_username_and_address_out_after_the_failure_limit(client):
    user = ReaderFactory()
    login = "/accounts/login/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post(login, {"username": user.username, "password": "x"}).status_code == 200
    locked = client.post(login, {"username": user.username, "password": "x"})
    assert locked.status_code == 429
    assert "too many failed logins" in locked.content.decode()
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # now even the right password is refused, and no session is made
    right = client.post(login, {"username": user.username, "password": PASSWORD})
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_after_the_cool_off_the_right_password_logs_in_and_clears_the_failures(client):
    user = ReaderFactory()
    assert _fail_logins(client, "/accounts/login/", user.username).status_code == 429
    _cool_off_passes()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.filter(username=user.username).exists()


def test_the_lockout_is_per_username_and_address(client):
    user, other = ReaderFactory(), ReaderFactory()
    assert _fail_logins(client, "/accounts/login/", user.username).status_code == 429
    elsewhere = {"username": user.username, "password": PASSWORD}
    assert client.post("/accounts/login/", elsewhere, REMOTE_ADDR="10.0.0.9").status_code == 302
    client.logout()
    another = {"username": other.username, "password": PASSWORD}
    assert client.post("/accounts/login/", another).status_code == 302


def test_the_admin_login_is_locked_out_too(client):
    admin = AdminFactory()
    url = "/admin/login/?next=/admin/"
    assert _fail_logins(client, url, admin.username).status_code == 429
    right = client.post(url, {"username": admin.username, "password": PASSWORD})
    assert right.status_code == 429


@pytest.mark.parametrize("url", [API, "/dicomweb/studies"])
def test_http_basic_is_locked_out_with_a_json_error(client, url):
    user = ReaderFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.get(url, HTTP_AUTHORIZATION=_basic(user.username, "wrong"))
        assert wrong.status_code in (401, 403)
    locked = client.get(url, HTTP_AUTHORIZATION=_basic(user.username, "wrong"))
    assert locked.status_code == 429
    assert locked.json()["code"] == "login_locked_out"
    assert "too many failed logins" in locked.json()["detail"]
    assert int(locked["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    right = client.get(url, HTTP_AUTHORIZATION=_basic(user.username, PASSWORD))
    assert right.status_code == 429 and right.json()["code"] == "login_locked_out"
    _cool_off_passes()
    assert client.get(url, HTTP_AUTHORIZATION=_basic(user.username, PASSWORD)).status_code == 200


def test_authenticate_without_a_request_is_not_counted():
    """Management commands (and the test client's login) authenticate without a client."""
    user = ReaderFactory()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert authenticate(username=user.username, password="wrong") is None
    assert authenticate(username=user.username, password=PASSWORD) == user
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize(
    "variable", ["READERSTUDY_LOGIN_FAILURE_LIMIT", "READERSTUDY_LOGIN_COOLOFF_MINUTES"]
)
def test_a_limit_below_one_is_refused_at_start(variable, tmp_path):
    env = {**os.environ, variable: "0", "READERSTUDY_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", "import readerstudy.settings.base"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert f"{variable}" in result.stderr and "must be 1 or more" in result.stderr
