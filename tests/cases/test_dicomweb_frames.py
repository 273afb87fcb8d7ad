"""WADO-RS frames: the per-series frame index and the short-lived frame token."""

import base64
import time

import pydicom
import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import cache

from readerstudy.cases import frames
from readerstudy.cases.ingest import import_study
from readerstudy.studies import services
from tests.factories import PASSWORD, CoordinatorFactory, ReaderFactory

pytestmark = pytest.mark.django_db
ACCEPT = 'multipart/related; type="application/octet-stream"'


@pytest.fixture(autouse=True)
def _fresh_index():
    frames.forget_series()
    yield
    frames.forget_series()


@pytest.fixture
def two_series(phantom_dir):
    out, records = phantom_dir
    return [import_study(out / r["case_id"]).case.primary_series for r in records]


def _base(series) -> str:
    return f"/dicomweb/studies/{series.study_instance_uid}/series/{series.series_instance_uid}"


def _frame_url(series, position=0) -> str:
    sop = series.instances.get(position=position).sop_instance_uid
    return f"{_base(series)}/instances/{sop}/frames/1"


def _payload(response) -> bytes:
    boundary = response["Content-Type"].split("boundary=")[1]
    return response.content.split(b"\r\n\r\n", 1)[1].rsplit(f"\r\n--{boundary}--".encode(), 1)[0]


def _pixels(series, position=0) -> bytes:
    path = settings.STORAGES["default"]["OPTIONS"]["location"]
    with open(f"{path}/{series.instances.get(position=position).file}", "rb") as handle:
        return pydicom.dcmread(handle).PixelData


def _reader_assigned_to(series):
    reader = ReaderFactory()
    study = services.create_study(
        title="frames", design="unaided_only", randomization_seed=1, washout_days=0
    )
    services.add_cases(study, [series.case])
    services.enroll_reader(study, reader)
    return reader, services.open_study(study, truth_pending_allowed=True)


def _set_token(client, token):
    client.cookies[frames.TOKEN_COOKIE] = token


def _basic(username: str, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.fixture(params=["shared", "local"])
def session_cache(request, settings, tmp_path):
    """Sessions cached in a cache every process shares (files: the default without a cache
    server) or in each process's memory (a misconfiguration): the token check holds in both."""
    if request.param == "shared":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return request.param


def test_metadata_issues_a_series_scoped_token_and_frames_then_skip_the_database(
    client, two_series, django_assert_num_queries, session_cache
):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    metadata = client.get(f"{_base(series)}/metadata")
    assert metadata.status_code == 200
    cookie = metadata.cookies[frames.TOKEN_COOKIE]
    assert cookie["path"] == f"{_base(series)}/"
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert int(cookie["max-age"]) == frames.TOKEN_TTL
    assert cookie.value.startswith(f"{reader.pk}.")

    frames.series_frames(series.study_instance_uid, series.series_instance_uid)  # warm index
    url = _frame_url(series, 3)
    # No user, policy or instance query. That the session still exists is one cache lookup
    # where the cache is shared, else one primary-key query of the session table.
    session_lookups = 0 if session_cache == "shared" else 1
    with django_assert_num_queries(session_lookups):
        response = client.get(url, HTTP_ACCEPT=ACCEPT)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(ACCEPT)
    assert int(response["Content-Length"]) == len(response.content)
    assert _payload(response) == _pixels(series, 3)
    assert frames.TOKEN_COOKIE not in response.cookies  # the token is not re-issued each time
    etag = response["ETag"]
    with django_assert_num_queries(session_lookups):
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_frame_through_the_session_issues_the_token(client, two_series):
    series = two_series[0]
    coordinator = CoordinatorFactory()
    client.login(username=coordinator.username, password=PASSWORD)
    first = client.get(_frame_url(series))
    assert first.status_code == 200 and _payload(first) == _pixels(series)
    assert first.cookies[frames.TOKEN_COOKIE]["path"] == f"{_base(series)}/"
    assert client.get(_frame_url(series), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(_frame_url(series).replace("/frames/1", "/frames/2")).status_code == 404


def test_token_for_another_series_is_refused_and_nothing_leaks(client, two_series):
    mine, other = two_series
    reader, _ = _reader_assigned_to(mine)
    client.login(username=reader.username, password=PASSWORD)
    assert client.get(f"{_base(mine)}/metadata").status_code == 200
    # the test client sends the cookie to every path: as if a client replayed it elsewhere
    assert frames.TOKEN_COOKIE in client.cookies
    response = client.get(_frame_url(other))
    assert response.status_code == 404
    assert _pixels(other)[:64] not in response.content
    assert frames.TOKEN_COOKIE not in response.cookies
    assert client.get(_frame_url(mine)).status_code == 200


def test_token_without_its_session_is_refused(client, two_series):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    token = client.get(f"{_base(series)}/metadata").cookies[frames.TOKEN_COOKIE].value
    client.logout()
    _set_token(client, token)
    response = client.get(_frame_url(series))
    assert response.status_code == 401
    assert response.content == b'{"detail": "authentication required"}'

    # another user's session beside it does not make it theirs
    other = ReaderFactory()
    client.login(username=other.username, password=PASSWORD)
    _set_token(client, token)
    assert client.get(_frame_url(series)).status_code == 404


def test_a_basic_auth_client_gets_no_token_and_a_sessionless_token_gets_nothing(client, two_series):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    auth = _basic(reader.username)
    metadata = client.get(f"{_base(series)}/metadata", HTTP_AUTHORIZATION=auth)
    assert metadata.status_code == 200
    assert frames.TOKEN_COOKIE not in metadata.cookies
    frame = client.get(_frame_url(series), HTTP_AUTHORIZATION=auth)
    assert frame.status_code == 200 and _payload(frame) == _pixels(series)
    assert frames.TOKEN_COOKIE not in frame.cookies  # every frame takes the checked path
    # a token signed for "no session" (what a Basic client used to get) opens nothing
    uids = (series.study_instance_uid, series.series_instance_uid)
    _set_token(client, frames.make_token(reader.pk, *uids, ""))
    response = client.get(_frame_url(series))
    assert response.status_code == 401
    assert _pixels(series)[:64] not in response.content


def test_after_logout_the_old_session_cookie_and_token_give_no_pixels(
    client, two_series, session_cache
):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    token = client.get(f"{_base(series)}/metadata").cookies[frames.TOKEN_COOKIE].value
    old_session = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get(_frame_url(series)).status_code == 200
    client.post("/accounts/logout/")
    for url in (_frame_url(series, 1), f"{_base(series)}/metadata"):
        client.cookies[settings.SESSION_COOKIE_NAME] = old_session  # replayed each time
        _set_token(client, token)
        response = client.get(url)
        assert response.status_code == 401, url
        assert _pixels(series, 1)[:64] not in response.content


def test_a_session_still_cached_in_another_process_does_not_keep_the_token(
    client, two_series, rf, settings
):
    """With a per-process cache (a misconfiguration: the default cache is shared), a logout in
    one process leaves the session in the others' memory: the token check then asks the
    database, so the token ends everywhere at once."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    token = client.get(f"{_base(series)}/metadata").cookies[frames.TOKEN_COOKIE].value
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    other_process_copy = cache.get(KEY_PREFIX + session)
    assert other_process_copy is not None
    client.logout()
    cache.set(KEY_PREFIX + session, other_process_copy)  # as another process still holds it
    request = rf.get("/")
    request.COOKIES = {settings.SESSION_COOKIE_NAME: session, frames.TOKEN_COOKIE: token}
    assert frames.token_user(request, series.study_instance_uid, series.series_instance_uid) is None


def test_a_token_presented_beside_another_live_session_is_refused(client, two_series, rf):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    token = client.get(f"{_base(series)}/metadata").cookies[frames.TOKEN_COOKIE].value
    second = type(client)()
    second.login(username=reader.username, password=PASSWORD)  # the same user, elsewhere
    other_session = second.cookies[settings.SESSION_COOKIE_NAME].value
    uids = (series.study_instance_uid, series.series_instance_uid)
    request = rf.get("/")
    request.COOKIES = {settings.SESSION_COOKIE_NAME: other_session, frames.TOKEN_COOKIE: token}
    assert frames.token_user(request, *uids) is None
    # a made-up session value beside it is no better, and gets no pixels
    anonymous = type(client)()
    anonymous.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32
    _set_token(anonymous, token)
    assert anonymous.get(_frame_url(series)).status_code == 401


def test_the_token_expires_with_its_session_at_the_latest(client, two_series):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    session = client.session
    session.set_expiry(60)
    session.save()
    token = client.get(f"{_base(series)}/metadata").cookies[frames.TOKEN_COOKIE].value
    assert int(token.split(".")[1]) <= time.time() + 61


@pytest.mark.parametrize("change", ["expired", "signature", "user", "expiry", "garbage", "empty"])
def test_expired_or_tampered_tokens_are_refused(client, two_series, rf, change):
    series = two_series[0]
    reader, _ = _reader_assigned_to(series)
    intruder = ReaderFactory()  # not assigned anywhere
    client.login(username=reader.username, password=PASSWORD)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    uids = (series.study_instance_uid, series.series_instance_uid)
    good = frames.make_token(reader.pk, *uids, session)
    user_id, expires, signature = good.split(".")
    token = {
        "expired": frames.make_token(reader.pk, *uids, session, now=time.time() - 301),
        "signature": f"{user_id}.{expires}.{'0' * len(signature)}",
        "user": f"{intruder.pk}.{expires}.{signature}",
        "expiry": f"{user_id}.{int(expires) + 3600}.{signature}",
        "garbage": "not-a-token",
        "empty": "..",
    }[change]

    def token_user(value, series_uid=uids[1]):
        request = rf.get("/")
        request.COOKIES = {settings.SESSION_COOKIE_NAME: session, frames.TOKEN_COOKIE: value}
        return frames.token_user(request, uids[0], series_uid)

    assert token_user(good) == reader.pk
    assert token_user(good, series_uid=two_series[1].series_instance_uid) is None
    assert token_user(token) is None
    # With the reader's session the request falls back to the normal check, then gets a
    # fresh token ...
    _set_token(client, token)
    response = client.get(_frame_url(series))
    assert response.status_code == 200
    assert token_user(response.cookies[frames.TOKEN_COOKIE].value) == reader.pk
    # ... while without a session, or as someone else, the bad token gets nothing.
    client.logout()
    _set_token(client, token)
    assert client.get(_frame_url(series)).status_code == 401
    client.login(username=intruder.username, password=PASSWORD)
    _set_token(client, token)
    response = client.get(_frame_url(series))
    assert response.status_code == 404 and _pixels(series)[:64] not in response.content


def test_closing_the_study_ends_access_through_the_session(client, two_series):
    series = two_series[0]
    reader, study = _reader_assigned_to(series)
    client.login(username=reader.username, password=PASSWORD)
    assert client.get(_frame_url(series)).status_code == 200
    services.close_study(study)
    client.cookies.pop(frames.TOKEN_COOKIE, None)
    assert client.get(_frame_url(series)).status_code == 404
    assert client.get(f"{_base(series)}/metadata").status_code == 404


def test_frames_of_unknown_instances_and_series(client, two_series):
    series = two_series[0]
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    assert client.get(f"{_base(series)}/instances/1.2.3/frames/1").status_code == 404
    missing = f"/dicomweb/studies/{series.study_instance_uid}/series/1.2.3/instances/1.2/frames/1"
    assert client.get(missing).status_code == 404
    client.logout()
    assert client.get(_frame_url(series)).status_code == 401


def test_the_index_follows_a_deleted_series_after_forget(client, two_series):
    series = two_series[0]
    key = (series.study_instance_uid, series.series_instance_uid)
    assert frames.series_frames(*key).case_id == series.case_id
    assert len(frames.series_frames(*key).frames) == series.num_slices
    series.case.delete()
    frames.forget_series(*key)
    assert frames.series_frames(*key) is None


def test_a_deleted_series_leaves_this_process_index_at_once(two_series):
    series = two_series[0]
    key = (series.study_instance_uid, series.series_instance_uid)
    assert frames.series_frames(*key) is not None
    series.case.delete()
    assert key not in frames._index
    assert frames.series_frames(*key) is None


def test_a_stale_entry_of_a_reimported_series_is_looked_up_again(client, phantom_dir):
    """Another process may still hold the entry of a series that was deleted and imported
    again with the same UIDs: its case and files are gone, the frame must still be served."""
    out, records = phantom_dir
    series = import_study(out / records[0]["case_id"]).case.primary_series
    key = (series.study_instance_uid, series.series_instance_uid)
    stale = frames.series_frames(*key)
    series.case.delete()
    again = import_study(out / records[0]["case_id"]).case.primary_series
    assert (again.study_instance_uid, again.series_instance_uid) == key
    assert again.case_id != stale.case_id
    frames._index[key] = stale  # as another process's index still has it
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    response = client.get(_frame_url(again))
    assert response.status_code == 200 and _payload(response) == _pixels(again)
    assert frames.series_frames(*key).case_id == again.case_id
