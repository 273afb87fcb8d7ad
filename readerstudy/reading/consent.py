"""Readers' acceptances of a study's consent (append-only), and the check before every read.

A reader accepts the study's current consent version (``studies.consent``) before the first
read and again after each new version; until then the reading API refuses to start or answer a
read (409 ``consent_required``). The check costs no query of its own: the row lock of the
reading services carries :data:`PENDING_SQL` as an extra column (see ``lookups.locked``).
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from readerstudy.studies.consent import ConsentVersion, current_version
from readerstudy.studies.errors import ProtocolConflict, StudyError


class ConsentAcceptance(models.Model):
    """One reader's acceptance of one consent version; rows are never changed or deleted."""

    version = models.ForeignKey(
        ConsentVersion, on_delete=models.PROTECT, related_name="acceptances"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_acceptances"
    )
    text_sha256 = models.CharField(max_length=64, help_text="sha256 of the text accepted")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["version_id", "accepted_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "user"], name="unique_consent_acceptance")
        ]

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise StudyError("consent_append_only", "a consent acceptance cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise StudyError("consent_append_only", "a consent acceptance cannot be deleted")


# The number of the study's current consent version if it has a text the assignment's reader
# has not accepted, else NULL; a column of the reading services' locked-assignment lookup.
PENDING_SQL = """(
    SELECT cv.number FROM studies_consentversion cv
    WHERE cv.study_id = a.study_id AND cv.text <> ''
      AND cv.number = (SELECT MAX(m.number) FROM studies_consentversion m
                       WHERE m.study_id = a.study_id)
      AND NOT EXISTS (SELECT 1 FROM reading_consentacceptance ca
                      WHERE ca.version_id = cv.id AND ca.user_id = r.user_id)
)"""


class ConsentRequired(ProtocolConflict):
    def __init__(self, study_id: int, number: int):
        super().__init__(
            "consent_required",
            f"accept the study's consent (version {number}) before reading: "
            f"GET and POST /api/reading/studies/{study_id}/consent/",
        )


def check_pending(assignment) -> None:
    """Refuse a read whose reader has not accepted the current consent (loaded by the lookup)."""
    number = getattr(assignment, "consent_pending", None)
    if number is not None:
        raise ConsentRequired(assignment.study_id, number)


@dataclass(frozen=True)
class ConsentState:
    """What the reader is asked: ``version`` None when the study asks for no consent."""

    study_id: int
    version: ConsentVersion | None
    acceptance: ConsentAcceptance | None

    @property
    def required(self) -> bool:
        return self.version is not None

    @property
    def accepted(self) -> bool:
        return self.acceptance is not None


def consent_state(user, study) -> ConsentState:
    version = current_version(study)
    if version is None or not version.text:
        return ConsentState(study.pk, None, None)
    acceptance = version.acceptances.filter(user=user).first()
    return ConsentState(study.pk, version, acceptance)


def needs_consent(user, study) -> bool:
    state = consent_state(user, study)
    return state.required and not state.accepted


def accept(user, study, number: int) -> tuple[ConsentState, bool]:
    """Record the reader's acceptance of version ``number``, which must be the current one;
    (state, whether it was recorded now): accepting again returns the first acceptance."""
    state = consent_state(user, study)
    if state.version is None:
        raise ProtocolConflict("consent_not_required", "this study asks for no consent")
    if number != state.version.number:
        raise ProtocolConflict(
            "consent_outdated",
            f"version {number} is not the study's current consent (version "
            f"{state.version.number}); read and accept the current text",
        )
    if state.acceptance is not None:
        return state, False
    try:
        with transaction.atomic():
            acceptance = ConsentAcceptance.objects.create(
                version=state.version, user=user, text_sha256=state.version.text_sha256
            )
    except IntegrityError:  # a concurrent request recorded it first
        return consent_state(user, study), False
    return ConsentState(study.pk, state.version, acceptance), True
