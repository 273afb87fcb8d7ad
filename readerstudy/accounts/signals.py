"""Drop a user's cached copy (``backends.CachedUserBackend``) when the row changes."""

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from .backends import user_cache_key


def forget_cached_user(sender, instance, **kwargs) -> None:
    cache.delete(user_cache_key(instance.pk))


def connect() -> None:
    user_model = get_user_model()
    post_save.connect(forget_cached_user, sender=user_model, dispatch_uid="forget_cached_user")
    post_delete.connect(forget_cached_user, sender=user_model, dispatch_uid="forget_deleted_user")
