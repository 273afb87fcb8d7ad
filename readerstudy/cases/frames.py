"""The fast path of WADO-RS frame requests: a per-series frame index and short-lived frame tokens.

A viewer fetches every frame of a series, one request each (36-300+ per series), right after
the series ``/metadata``. Doing the full work per frame (session, user, access policy, an ORM
query for the instance) costs more than reading the frame. Instead:

* **Frame index** (:func:`series_frames`): one query per series loads, for every instance, the
  storage name, pixel-data offset/length and content hash; kept per process for
  :data:`INDEX_TTL` seconds. A frame is then a dict lookup and one ``pread``.
* **Frame token** (:func:`issue_token` / :func:`token_user`): when a user logged in through a
  session who may view the series gets its ``/metadata`` (or a frame through the session), the
  response sets a cookie scoped to that series' path: ``user id . expiry . HMAC(user, study
  UID, series UID, expiry, session key)``. A frame request carrying a valid token skips the
  user and access-policy lookups; what it still costs is one look-up that the session exists
  (:func:`session_alive`: a cache lookup where the session cache is shared by all processes,
  else a primary-key query of the session table). The token is refused (and the request falls
  back to the normal checks) when it was made for another series, has expired, was altered,
  is presented beside another session cookie, or its session has ended (logout, expiry) in
  any process. Clients without a session (HTTP Basic) get no token. A token never outlives
  :data:`TOKEN_TTL` seconds nor its session's expiry: access revoked in the meantime (a study
  closed, a password changed, a user deactivated) reaches frames at most that late, well
  inside the hour the browser may keep frames it already has (``Cache-Control: private,
  max-age=3600``). See docs/adr/0001-login-lockout-and-frame-tokens.md.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db as db_sessions
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.files.storage import default_storage
from django.utils.crypto import constant_time_compare, salted_hmac

from .models import Instance

TOKEN_COOKIE = "rs_frames"
TOKEN_TTL = 300
INDEX_TTL = 60
INDEX_MAX_SERIES = 256
_SALT = "readerstudy.cases.frames.token"


@dataclass(frozen=True)
class Frame:
    name: str  # storage name
    path: str | None  # local file path when the storage has one (one pread, no storage API)
    offset: int
    length: int
    sha256: str


@dataclass(frozen=True)
class SeriesFrames:
    series_id: int
    case_id: int
    frames: dict[str, Frame]  # SOP Instance UID -> frame 1 of that instance
    expires: float


_index: dict[tuple[str, str], SeriesFrames] = {}
_index_lock = threading.Lock()


def _local_path(name: str) -> str | None:
    try:
        return default_storage.path(name)
    except NotImplementedError:  # object storage (S3): read through the storage API
        return None


def series_frames(study_uid: str, series_uid: str, *, fresh: bool = False) -> SeriesFrames | None:
    """The frame index of a series (None if there is no such series); one query per series
    and process every :data:`INDEX_TTL` seconds, or now with ``fresh`` (a caller that found
    the entry stale: its case gone, its file missing). No access check: callers do that."""
    key = (study_uid, series_uid)
    now = time.monotonic()
    entry = _index.get(key)
    if not fresh and entry is not None and entry.expires > now:
        return entry
    rows = list(
        Instance.objects.filter(
            series__study_instance_uid=study_uid, series__series_instance_uid=series_uid
        )
        .order_by()
        .values_list(
            "sop_instance_uid",
            "file",
            "pixel_offset",
            "pixel_length",
            "sha256",
            "series_id",
            "series__case_id",
        )
    )
    if not rows:
        _index.pop(key, None)
        return None
    frames = {
        sop: Frame(name, _local_path(name), offset, length, sha256)
        for sop, name, offset, length, sha256, _, _ in rows
    }
    entry = SeriesFrames(rows[0][5], rows[0][6], frames, now + INDEX_TTL)
    with _index_lock:
        if len(_index) >= INDEX_MAX_SERIES:
            for stale in [k for k, v in _index.items() if v.expires <= now] or list(_index)[:32]:
                _index.pop(stale, None)
        _index[key] = entry
    return entry


def forget_series(study_uid: str | None = None, series_uid: str | None = None) -> None:
    """Drop one series (or, without arguments, every series) from this process's index."""
    with _index_lock:
        if study_uid is None:
            _index.clear()
        elif series_uid is not None:
            _index.pop((study_uid, series_uid), None)


def forget_deleted_series(sender, instance, **kwargs) -> None:
    """``post_delete`` receiver of Series: this process forgets the series at once (others
    within :data:`INDEX_TTL`, or at their first request that finds the entry stale)."""
    forget_series(instance.study_instance_uid, instance.series_instance_uid)


def read_frame(frame: Frame) -> bytes:
    if frame.path is not None:
        fd = os.open(frame.path, os.O_RDONLY)
        try:
            data = os.pread(fd, frame.length, frame.offset)
        finally:
            os.close(fd)
    else:
        with default_storage.open(frame.name, "rb") as handle:
            handle.seek(frame.offset)
            data = handle.read(frame.length)
    if len(data) != frame.length:
        raise OSError(
            f"stored file {frame.name} holds {len(data)} of the {frame.length} bytes of pixel"
            f" data recorded at offset {frame.offset}"
        )
    return data


# --- tokens --------------------------------------------------------------------------------


def _signature(user_id: int, study_uid: str, series_uid: str, expires: int, session: str) -> str:
    message = f"{user_id}|{study_uid}|{series_uid}|{expires}|{session}"
    return salted_hmac(_SALT, message, algorithm="sha256").hexdigest()[:40]


def _session_cookie(request) -> str:
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")


def _session_store():
    """The session store that knows, in every process alike, whether a session still exists.

    ``cached_db`` keeps sessions in the default cache too; a logout deletes the session from
    the database and from *this* process's cache only, so with a per-process (local memory)
    cache another process would still find it there: ask the database instead."""
    engine = settings.SESSION_ENGINE
    if engine == "django.contrib.sessions.backends.cached_db" and isinstance(
        caches[settings.SESSION_CACHE_ALIAS], LocMemCache
    ):
        return db_sessions.SessionStore()
    return import_module(engine).SessionStore()


def session_alive(session_key: str) -> bool:
    """Whether the session still exists (not logged out, flushed or cleared): one lookup."""
    return bool(session_key) and _session_store().exists(session_key)


def make_token(
    user_id: int,
    study_uid: str,
    series_uid: str,
    session: str,
    now: float | None = None,
    not_after: int | None = None,
) -> str:
    expires = int(now if now is not None else time.time()) + TOKEN_TTL
    if not_after is not None:
        expires = min(expires, not_after)
    signature = _signature(user_id, study_uid, series_uid, expires, session)
    return f"{user_id}.{expires}.{signature}"


def token_path(study_uid: str, series_uid: str) -> str:
    return f"{settings.FORCE_SCRIPT_NAME or ''}/dicomweb/studies/{study_uid}/series/{series_uid}/"


def _logged_in_session(request) -> str | None:
    """The key of the session ``request.user`` is logged in through; None for a user who
    authenticated otherwise (HTTP Basic), even beside an anonymous session."""
    session = request.session
    if session.session_key and session.get(SESSION_KEY) == str(request.user.pk):
        return session.session_key
    return None


def issue_token(request, response, study_uid: str, series_uid: str) -> None:
    """Set the series' frame-token cookie on ``response`` for ``request.user`` (who has
    already been found to be allowed to view the series) when they are logged in through a
    session; the token expires with the session at the latest."""
    session_key = _logged_in_session(request)
    if session_key is None:
        return
    not_after = int(request.session.get_expiry_date().timestamp())
    token = make_token(request.user.pk, study_uid, series_uid, session_key, not_after=not_after)
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=TOKEN_TTL,
        path=token_path(study_uid, series_uid),
        secure=request.is_secure(),
        httponly=True,
        samesite="Strict",
    )


def token_user(request, study_uid: str, series_uid: str, now: float | None = None) -> int | None:
    """The user id a valid frame token on ``request`` vouches for, for this series; None when
    there is no token or it is expired, altered, for another series or another session, or
    its session has ended."""
    token = request.COOKIES.get(TOKEN_COOKIE)
    if not token:
        return None
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    user_id, expires = int(parts[0]), int(parts[1])
    if expires < (now if now is not None else time.time()):
        return None
    session = _session_cookie(request)
    expected = _signature(user_id, study_uid, series_uid, expires, session)
    if not constant_time_compare(parts[2], expected):
        return None
    if not session_alive(session):
        return None
    return user_id
