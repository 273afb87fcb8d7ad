"""Write paths for accounts."""

import secrets

from django.db import transaction

from .models import ReaderProfile, Role, User


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> User:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(Role.values)}")
    user = User(
        username=username,
        email=email,
        role=role,
        first_name=first_name,
        last_name=last_name,
        is_staff=role in (Role.COORDINATOR, Role.ADMIN),
        is_superuser=role == Role.ADMIN,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    return user


@transaction.atomic
def ensure_user(*, username: str, password: str, role: str, **fields) -> User:
    """Create the user, or reset role and password of an existing one (re-runnable set-up)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        return create_user(username=username, password=password, role=role, **fields)
    user.role = role
    user.is_staff = role in (Role.COORDINATOR, Role.ADMIN)
    user.is_superuser = role == Role.ADMIN
    for key, value in fields.items():
        setattr(user, key, value)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def set_reader_profile(
    *, user: User, specialty: str, years_experience: int, institution: str = ""
) -> ReaderProfile:
    profile, _ = ReaderProfile.objects.get_or_create(
        user=user,
        defaults={"specialty": specialty, "years_experience": years_experience},
    )
    profile.specialty = specialty
    profile.years_experience = years_experience
    profile.institution = institution
    profile.full_clean()
    profile.save()
    return profile


def initial_password() -> str:
    """A one-time password for a new reader, shown once to the coordinator who created them."""
    return secrets.token_urlsafe(12)


@transaction.atomic
def create_reader(
    *,
    username: str,
    password: str,
    specialty: str,
    years_experience: int,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    institution: str = "",
) -> User:
    """A reader account with the profile a study's reader table reports, both or neither."""
    user = create_user(
        username=username, password=password, role=Role.READER, email=email,
        first_name=first_name, last_name=last_name,
    )  # fmt: skip
    set_reader_profile(
        user=user, specialty=specialty, years_experience=years_experience, institution=institution
    )
    return user


def _require_reader(user: User) -> None:
    if user.role != Role.READER:
        raise ValueError(f"{user.username} is not a reader")


@transaction.atomic
def update_reader(
    user: User,
    *,
    specialty: str,
    years_experience: int,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    institution: str = "",
) -> User:
    _require_reader(user)
    user.email, user.first_name, user.last_name = email, first_name, last_name
    user.full_clean()
    user.save(update_fields=["email", "first_name", "last_name"])
    set_reader_profile(
        user=user, specialty=specialty, years_experience=years_experience, institution=institution
    )
    return user


@transaction.atomic
def set_reader_active(user: User, active: bool) -> User:
    """Deactivated readers cannot sign in and are not offered to new studies; reads are kept."""
    _require_reader(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    return user
