"""Users, their platform role, and the reader profile reported in a study's reader table."""

from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator
from django.db import models


class Role(models.TextChoices):
    READER = "reader", "Reader"
    COORDINATOR = "coordinator", "Coordinator"
    STATISTICIAN = "statistician", "Statistician"
    ADMIN = "admin", "Administrator"
    ANNOTATOR = "annotator", "Annotator"
    ADJUDICATOR = "adjudicator", "Adjudicator"


class User(AbstractUser):
    """A platform user. The role decides which pages and API endpoints are reachable."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.READER)

    @property
    def is_reader(self) -> bool:
        return self.role == Role.READER

    @property
    def is_coordinator(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)

    @property
    def is_statistician(self) -> bool:
        return self.role in (Role.STATISTICIAN, Role.ADMIN)

    @property
    def is_annotator(self) -> bool:
        return self.role == Role.ANNOTATOR

    @property
    def is_adjudicator(self) -> bool:
        return self.role == Role.ADJUDICATOR

    @property
    def is_platform_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser


class Specialty(models.TextChoices):
    NEUROLOGIST = "neurologist", "Neurologist"
    RADIOLOGIST = "radiologist", "Radiologist"
    NEURORADIOLOGIST = "neuroradiologist", "Neuroradiologist"
    EMERGENCY = "emergency", "Emergency doctor"
    NEUROSURGEON = "neurosurgeon", "Neurosurgeon"
    TRAINEE = "trainee", "Trainee / resident"
    OTHER = "other", "Other"


class ReaderProfile(models.Model):
    """Who a reader is, as a paper's reader table reports it (specialty, experience)."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="reader_profile")
    specialty = models.CharField(max_length=32, choices=Specialty.choices)
    years_experience = models.PositiveSmallIntegerField(validators=[MaxValueValidator(70)])
    institution = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.user.username} ({self.get_specialty_display()}, {self.years_experience} y)"
