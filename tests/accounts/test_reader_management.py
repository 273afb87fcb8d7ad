"""Coordinators add, list, edit, deactivate and reactivate readers in their own pages."""

import pytest

from readerstudy.accounts import services
from readerstudy.accounts.models import Role, User
from tests.factories import (
    PASSWORD,
    CoordinatorFactory,
    ReaderFactory,
    StatisticianFactory,
)

pytestmark = pytest.mark.django_db

NEW_READER = {
    "username": "dr.lind", "first_name": "Ada", "last_name": "Lind", "email": "ada@example.org",
    "specialty": "neuroradiologist", "years_experience": "12", "institution": "North",
}  # fmt: skip


@pytest.fixture
def coordinator_client(client):
    assert client.login(username=CoordinatorFactory().username, password=PASSWORD)
    return client


def test_a_created_reader_gets_a_one_time_password_shown_once(coordinator_client, client):
    r = coordinator_client.post("/readers/new/", NEW_READER)
    assert r.status_code == 200
    password = r.context["password"]
    assert password and password in r.content.decode()
    assert "no-store" in r["Cache-Control"]
    reader = User.objects.get(username="dr.lind")
    assert (reader.role, reader.email, reader.get_full_name()) == (
        Role.READER, "ada@example.org", "Ada Lind"
    )  # fmt: skip
    profile = reader.reader_profile
    assert (profile.specialty, profile.years_experience) == ("neuroradiologist", 12)
    assert not reader.is_staff
    listing = coordinator_client.get("/readers/").content.decode()
    assert "dr.lind" in listing and "Neuroradiologist" in listing and password not in listing
    coordinator_client.logout()
    assert client.login(username="dr.lind", password=password)


def test_a_coordinator_may_set_the_initial_password(coordinator_client):
    r = coordinator_client.post("/readers/new/", {**NEW_READER, "password": "harbour-lantern-97"})
    assert r.context["password"] is None
    assert User.objects.get(username="dr.lind").check_password("harbour-lantern-97")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"years_experience": "71"}, "years_experience", "less than or equal to 70"),
        ({"specialty": "wizard"}, "specialty", "Select a valid choice"),
        ({"username": "has space"}, "username", "Enter a valid username"),
        ({"email": "not-an-email"}, "email", "Enter a valid email address"),
        ({"password": "123"}, "password", "too short"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(coordinator_client, change, field, message):
    r = coordinator_client.post("/readers/new/", {**NEW_READER, **change})
    assert r.status_code == 200
    assert message in " ".join(r.context["form"].errors[field])
    page = r.content.decode()
    block = page[page.index(f'id="field-{field}"') :]
    assert message in block[: block.index("</div>")]  # the error sits in the field's own block
    assert not User.objects.filter(username=NEW_READER["username"]).exists()


def test_a_taken_username_is_refused(coordinator_client):
    ReaderFactory(username="dr.lind")
    r = coordinator_client.post("/readers/new/", {**NEW_READER, "username": "DR.LIND"})
    assert "the username 'DR.LIND' is taken" in r.context["form"].errors["username"][0]
    assert User.objects.filter(username__iexact="dr.lind").count() == 1


def test_edit_the_profile(coordinator_client):
    reader = ReaderFactory()
    r = coordinator_client.get(f"/readers/{reader.pk}/")
    assert r.context["form"].initial["years_experience"] == 5
    r = coordinator_client.post(
        f"/readers/{reader.pk}/",
        {"first_name": "Bo", "last_name": "Ek", "email": "", "specialty": "trainee",
         "years_experience": "1", "institution": ""},
    )  # fmt: skip
    assert r.status_code == 302
    reader.refresh_from_db()
    assert reader.get_full_name() == "Bo Ek"
    assert (reader.reader_profile.specialty, reader.reader_profile.years_experience) == (
        "trainee", 1
    )  # fmt: skip


def test_deactivate_and_reactivate(coordinator_client, client):
    reader = ReaderFactory()
    coordinator_client.post(f"/readers/{reader.pk}/active/", {"active": "0"})
    reader.refresh_from_db()
    assert not reader.is_active
    assert "Reactivate" in coordinator_client.get("/readers/").content.decode()
    coordinator_client.post(f"/readers/{reader.pk}/active/", {"active": "1"})
    reader.refresh_from_db()
    assert reader.is_active


def test_only_reader_accounts_are_managed_here(coordinator_client):
    other = StatisticianFactory()
    assert coordinator_client.get(f"/readers/{other.pk}/").status_code == 404
    assert (
        coordinator_client.post(f"/readers/{other.pk}/active/", {"active": "0"}).status_code == 404
    )
    with pytest.raises(ValueError, match="is not a reader"):
        services.set_reader_active(other, False)


@pytest.mark.parametrize("factory", [ReaderFactory, StatisticianFactory])
def test_other_roles_are_refused(client, factory):
    assert client.login(username=factory().username, password=PASSWORD)
    for url in ("/readers/", "/readers/new/"):
        assert client.get(url).status_code == 403
    assert client.post("/readers/new/", NEW_READER).status_code == 403
    assert not User.objects.filter(username="dr.lind").exists()


def test_anonymous_callers_are_sent_to_sign_in(client):
    r = client.get("/readers/new/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next=")
