"""The links a user's home page offers, by role (apps register theirs here)."""

from django.urls import NoReverseMatch, reverse

# (url name, label, predicate on user)
_LINKS = [
    ("admin:index", "Administration", lambda u: u.is_staff),
]


def register_link(url_name: str, label: str, predicate) -> None:
    _LINKS.append((url_name, label, predicate))


def links_for(user) -> list[dict]:
    links = []
    for url_name, label, predicate in _LINKS:
        if not predicate(user):
            continue
        try:
            links.append({"url": reverse(url_name), "label": label})
        except NoReverseMatch:
            continue
    return links
