"""Read paths for accounts."""

from .models import Role, User


def readers():
    return (
        User.objects.filter(role=Role.READER)
        .select_related("reader_profile")
        .order_by("-is_active", "username")
    )
