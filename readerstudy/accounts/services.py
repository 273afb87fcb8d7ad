"""Write paths for accounts."""

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
