"""The logged-in user is cached between requests, and a change to the row is seen at once."""

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from readerstudy.accounts.models import Role, User
from tests.factories import ReaderFactory

pytestmark = pytest.mark.django_db

URL = "/api/reading/studies/"


def _user_queries(client) -> tuple[int, int]:
    """(status of a reader-only API call, how many times it read the user table)."""
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(URL).status_code
    return status, sum('FROM "accounts_user"' in q["sql"] for q in ctx.captured_queries)


@pytest.fixture
def reader_client():
    user = ReaderFactory()
    client = Client()
    client.force_login(user)
    return user, client


def test_a_session_loads_its_user_once_then_from_the_cache(reader_client):
    _, client = reader_client
    assert _user_queries(client) == (200, 1)
    assert _user_queries(client) == (200, 0)
    assert _user_queries(client) == (200, 0)


@override_settings(USER_CACHE_SECONDS=0)
def test_zero_seconds_turns_the_cache_off(reader_client):
    _, client = reader_client
    assert _user_queries(client) == (200, 1)
    assert _user_queries(client) == (200, 1)


def test_a_role_change_is_seen_by_the_next_request(reader_client):
    user, client = reader_client
    assert _user_queries(client) == (200, 1)
    user.role = Role.STATISTICIAN
    user.save()
    assert client.get(URL).status_code == 403


def test_a_deactivated_user_is_logged_out_at_once(reader_client):
    user, client = reader_client
    assert client.get(URL).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(URL).status_code in (401, 403)


def test_a_deleted_user_is_not_served_from_the_cache(reader_client):
    user, client = reader_client
    assert client.get(URL).status_code == 200
    User.objects.filter(pk=user.pk).delete()  # signals fire for queryset deletes too
    assert client.get(URL).status_code in (401, 403)


def test_a_password_change_ends_other_sessions_at_once(reader_client):
    user, client = reader_client
    assert client.get(URL).status_code == 200
    user.set_password("another-password-456")
    user.save()
    assert client.get(URL).status_code in (401, 403)


@override_settings(USER_CACHE_SECONDS=1)
def test_a_change_that_bypasses_signals_is_seen_once_the_entry_expires(reader_client):
    user, client = reader_client
    assert client.get(URL).status_code == 200
    User.objects.filter(pk=user.pk).update(role=Role.STATISTICIAN)  # no post_save
    assert client.get(URL).status_code == 200  # the bounded staleness, documented
    time.sleep(1.1)
    assert client.get(URL).status_code == 403
