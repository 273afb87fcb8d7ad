"""Authentication backend that keeps a logged-in user in the cache for a few seconds.

Every request of a session loads its user; for the reading API that lookup is a tenth of the
request. The user is kept in the default cache, which every process shares, for
``USER_CACHE_SECONDS`` (0 turns it off) and dropped whenever the user row is saved or deleted
through the ORM (see ``signals``), so a deactivation or role change is seen by the next
request in every process; a change that bypasses the signals within that many seconds.
Logging out (the session) is immediate. See docs/adr/0002.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache


def user_cache_key(user_id) -> str:
    return f"readerstudy:user:{user_id}"


class CachedUserBackend(ModelBackend):
    def get_user(self, user_id):
        ttl = getattr(settings, "USER_CACHE_SECONDS", 0)
        if ttl <= 0:
            return super().get_user(user_id)
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            cache.set(key, user, ttl)
        return user if self.user_can_authenticate(user) else None


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for every login made by a client: the login page, the admin
    and HTTP Basic (DRF and DICOMweb pass the request). ``authenticate()`` without a request
    (management commands, the test client's ``login``) has no client to count or lock out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
