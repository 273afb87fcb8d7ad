import pytest
from django.core.exceptions import ValidationError

from readerstudy.accounts.models import ReaderProfile, Role, Specialty, User
from readerstudy.accounts.services import create_user, ensure_user, set_reader_profile

pytestmark = pytest.mark.django_db


def test_custom_user_model_is_in_use():
    from django.contrib.auth import get_user_model

    assert get_user_model() is User


def test_roles_decide_capabilities():
    reader = create_user(username="r", password="pw-123456", role=Role.READER)
    coordinator = create_user(username="c", password="pw-123456", role=Role.COORDINATOR)
    statistician = create_user(username="s", password="pw-123456", role=Role.STATISTICIAN)
    admin = create_user(username="a", password="pw-123456", role=Role.ADMIN)
    assert (reader.is_reader, reader.is_coordinator, reader.is_staff) == (True, False, False)
    assert coordinator.is_coordinator
    assert coordinator.is_staff
    assert not coordinator.is_superuser
    assert statistician.is_statistician
    assert not statistician.is_coordinator
    assert admin.is_platform_admin
    assert admin.is_superuser
    assert admin.is_coordinator


def test_unknown_role_is_refused_and_nothing_is_stored():
    with pytest.raises(ValueError, match="unknown role 'surgeon'"):
        create_user(username="x", password="pw-123456", role="surgeon")
    assert not User.objects.filter(username="x").exists()


def test_ensure_user_is_rerunnable_and_resets_password():
    ensure_user(username="demo", password="first-pass", role=Role.READER)
    user = ensure_user(username="demo", password="second-pass", role=Role.COORDINATOR)
    assert User.objects.filter(username="demo").count() == 1
    assert user.check_password("second-pass")
    assert user.role == Role.COORDINATOR


def test_reader_profile_records_specialty_and_experience():
    user = create_user(username="neuro", password="pw-123456", role=Role.READER)
    set_reader_profile(user=user, specialty=Specialty.NEUROLOGIST, years_experience=10)
    set_reader_profile(user=user, specialty=Specialty.NEUROLOGIST, years_experience=11)
    profile = ReaderProfile.objects.get(user=user)
    assert profile.years_experience == 11
    assert profile.get_specialty_display() == "Neurologist"
    with pytest.raises(ValidationError):
        set_reader_profile(user=user, specialty="astrologer", years_experience=3)
