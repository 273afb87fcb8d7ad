"""The links a user is offered, by role: the home page's list and the navigation bar."""

from django.urls import NoReverseMatch, reverse

# (url name, label, predicate on user)
_LINKS = []


def can_use_admin(user) -> bool:
    """Staff who can see at least one model in the Django admin (not an empty admin)."""
    return bool(
        user.is_active and user.is_staff and (user.is_superuser or user.get_all_permissions())
    )


def register_link(url_name: str, label: str, predicate) -> None:
    _LINKS.append((url_name, label, predicate))


def _resolve(entries, user) -> list[dict]:
    links = []
    for url_name, label, predicate in entries:
        if not predicate(user):
            continue
        try:
            links.append({"url": reverse(url_name), "label": label})
        except NoReverseMatch:
            continue
    return links


def links_for(user) -> list[dict]:
    return _resolve([*_LINKS, ("admin:index", "Administration", can_use_admin)], user)


# The navigation bar, in the order it shows: each role sees only the pages it may open.
NAV_BAR = [
    ("reading-worklist", "My studies", lambda u: u.is_reader),
    ("case-list", "Cases", lambda u: u.is_coordinator),
    ("study-list", "Studies", lambda u: u.is_coordinator),
    ("panel-list", "Panels", lambda u: u.is_coordinator),
    ("panel-worklist", "My panels", lambda u: u.is_annotator or u.is_adjudicator),
    ("reader-list", "Readers", lambda u: u.is_coordinator),
    ("export-list", "Exports", lambda u: u.is_statistician or u.is_coordinator),
    ("admin:index", "Administration", can_use_admin),
]


def nav_bar_for(user, path: str) -> list[dict]:
    """The bar's links, the one whose section ``path`` is in marked ``current``."""
    if not user.is_authenticated:
        return []
    links = _resolve(NAV_BAR, user)
    for link in links:
        link["current"] = path.startswith(link["url"])
    return links
