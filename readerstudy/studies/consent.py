"""A study's consent text, in numbered versions that readers accept before reading.

The text belongs to the study's design (this app), its acceptances to the reader's workflow
(``reading.consent``): data flow downwards, so a version never knows who accepted it and the
reading app refers to versions. Versions are never edited once a reader may have accepted them:
in a draft (no reader can read yet) the coordinator's edits rewrite the latest version; once the
study is open every change is a new version, which readers must accept again. An empty text
means the study asks for no consent.
"""

import hashlib

from django.conf import settings
from django.db import models, transaction

from .errors import ProtocolConflict, StudyError

MAX_TEXT = 20_000


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConsentVersion(models.Model):
    study = models.ForeignKey(
        "studies.ReaderStudy", on_delete=models.CASCADE, related_name="consent_versions"
    )
    number = models.PositiveIntegerField()
    text = models.TextField(blank=True, help_text="empty: the study asks for no consent")
    text_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["study_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="unique_consent_version")
        ]

    def __str__(self) -> str:
        return f"consent v{self.number} of study {self.study_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.study.is_frozen:
            raise ProtocolConflict(
                "consent_version_frozen",
                f"consent version {self.number} belongs to a study that is not a draft; "
                "change the text to create a new version",
            )
        self.text_sha256 = text_sha256(self.text)
        super().save(*args, **kwargs)


def current_version(study) -> ConsentVersion | None:
    """The study's latest version (whatever its text), or None."""
    return study.consent_versions.order_by("-number").first()


@transaction.atomic
def set_consent_text(study, text: str, *, by=None) -> ConsentVersion | None:
    """Make ``text`` the study's consent text; the version now current (None: never had one).

    Unchanged text changes nothing. A closed study's consent can no longer change.
    """
    text = (text or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_TEXT:
        raise StudyError(
            "consent_too_long", f"the consent text has {len(text)} characters; at most {MAX_TEXT}"
        )
    type(study).objects.select_for_update().filter(pk=study.pk).first()  # serialise edits
    current = current_version(study)
    if (current.text if current else "") == text:
        return current
    if study.status == study.Status.CLOSED:
        raise ProtocolConflict("study_closed", "the study is closed: its consent cannot change")
    if current is not None and not study.is_frozen:
        current.text, current.created_by = text, by
        current.save()
        return current
    number = current.number + 1 if current else 1
    return ConsentVersion.objects.create(study=study, number=number, text=text, created_by=by)
