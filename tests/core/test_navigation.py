"""The role-aware navigation bar, the 403 page for a wrong role, the admin for admins only."""

import re

import pytest

from tests.factories import (
    PASSWORD,
    AdjudicatorFactory,
    AdminFactory,
    AnnotatorFactory,
    CoordinatorFactory,
    ReaderFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db


def _login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def _nav(page: str) -> list[str]:
    bar = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.S).group(1)
    return re.findall(r">([^<]+)</a>", bar)


@pytest.mark.parametrize(
    ("factory", "links"),
    [
        (ReaderFactory, ["My studies"]),
        (CoordinatorFactory, ["Cases", "Studies", "Panels", "Readers", "Exports"]),
        (StatisticianFactory, ["Exports"]),
        (AnnotatorFactory, ["My panels"]),
        (AdjudicatorFactory, ["My panels"]),
        (AdminFactory, ["Cases", "Studies", "Panels", "Readers", "Exports", "Administration"]),
    ],
)
def test_the_bar_offers_each_role_its_pages(client, factory, links):
    _login(client, factory())
    assert _nav(client.get("/").content.decode()) == links


def test_the_current_page_is_marked(client):
    _login(client, CoordinatorFactory())
    page = client.get("/readers/").content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', page) == ["/readers/"]


def test_administration_is_offered_only_to_who_can_use_it(client):
    coordinator = CoordinatorFactory()  # staff, yet without any admin permission
    _login(client, coordinator)
    home = client.get("/").content.decode()
    assert "Administration" not in home and "/admin/" not in home


@pytest.mark.parametrize(
    ('factory', 'url', 'text'),
    [
        (CoordinatorFactory, "/read/", "This page is for readers; you are signed in as a coordinator."),
        (ReaderFactory, "/studies/", "This page is for coordinators; you are signed in as a reader."),
        (StatisticianFactory, "/readers/", "This page is for coordinators; you are signed in as a statistician."),
        (AdminFactory, "/read/", "This page is for readers; you are signed in as an administrator."),
    ],
)  # fmt: skip
def test_a_wrong_role_gets_the_403_page_with_a_way_home(client, factory, url, text):
    _login(client, factory())
    r = client.get(url)
    assert r.status_code == 403
    page = r.content.decode()
    assert text in page
    assert 'href="/"' in page and "Go to your home page" in page
    assert 'id="id_password"' not in page  # not the sign-in form


def test_the_case_library_refuses_a_reader_with_the_403_page(client):
    _login(client, ReaderFactory())
    r = client.get("/cases/")
    assert r.status_code == 403 and "Go to your home page" in r.content.decode()


def test_anonymous_callers_still_sign_in(client):
    r = client.get("/read/")
    assert r.status_code == 302 and r["Location"] == "/accounts/login/?next=/read/"


@pytest.mark.parametrize(
    "model",
    ["readerstudy", "studycase", "studyreader", "readingsession", "arm", "assignment",
     "assistanceconfig", "question"],
)  # fmt: skip
def test_the_study_models_are_in_the_admin(client, model):
    _login(client, AdminFactory())
    assert client.get(f"/admin/studies/{model}/").status_code == 200


def test_boolean_fields_render_inside_their_label(client):
    _login(client, CoordinatorFactory())
    page = client.get("/studies/").content.decode()
    assert re.search(
        r'<label for="id_blind_coordinators"><input type="checkbox" name="blind_coordinators"[^>]*>'
        r" Blind coordinators</label>",
        page,
    )
