"""factory_boy factories shared by the app tests."""

import factory

from readerstudy.accounts.models import ReaderProfile, Role, Specialty, User

PASSWORD = "test-password-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.READER
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ReaderFactory(UserFactory):
    role = Role.READER
    profile = factory.RelatedFactory(
        "tests.factories.ReaderProfileFactory", factory_related_name="user"
    )


class CoordinatorFactory(UserFactory):
    role = Role.COORDINATOR
    is_staff = True


class StatisticianFactory(UserFactory):
    role = Role.STATISTICIAN


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


class ReaderProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReaderProfile

    user = factory.SubFactory(UserFactory)
    specialty = Specialty.RADIOLOGIST
    years_experience = 5
