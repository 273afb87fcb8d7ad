"""The audit entry: django-auditlog's log entry plus the action kind and the study.

Rows are append-only: saving an existing row, deleting one, and queryset update/delete raise.
"""

from typing import Any, NoReturn

from auditlog.models import AbstractLogEntry, LogEntryManager
from django.db import models


class AuditLogImmutable(Exception):
    """An audit entry was about to be changed or deleted."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AuditLogImmutable("audit entries cannot be updated")

    def delete(self) -> NoReturn:
        raise AuditLogImmutable("audit entries cannot be deleted")


class AuditEntryManager(LogEntryManager.from_queryset(AppendOnlyQuerySet)):  # type: ignore[misc]
    def log_create(self, instance: Any, force_log: bool = False, **kwargs: Any) -> Any:
        """Model changes: the kind and the study come from :mod:`readerstudy.audit.kinds`."""
        from .kinds import kind_of_change, study_id_of

        kwargs.setdefault("kind", kind_of_change(instance, kwargs.get("action"), kwargs))
        kwargs.setdefault("study_id", study_id_of(instance))
        return super().log_create(instance, force_log=force_log, **kwargs)


class AuditEntry(AbstractLogEntry):
    #: what happened, e.g. ``study.open``, ``grant.reader``, ``export.download``, ``login.failed``
    kind: models.CharField = models.CharField(max_length=64, db_index=True)
    #: the study the object belongs to; no database constraint so entries outlive a deleted study
    study: models.ForeignKey = models.ForeignKey(
        "studies.ReaderStudy",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )

    objects = AuditEntryManager()

    class Meta(AbstractLogEntry.Meta):
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["study", "timestamp"], name="audit_study_time")]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AuditLogImmutable(f"audit entry {self.pk} cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AuditLogImmutable(f"audit entry {self.pk} cannot be deleted")
