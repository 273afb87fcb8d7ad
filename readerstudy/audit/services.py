"""Explicit audit events: what no model change shows (downloads, logins, analysis files)."""

import json
import re
from typing import Any

from auditlog.cid import get_cid
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from .kinds import study_id_of
from .models import AuditEntry

KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")


def record(actor: Any, kind: str, obj: Any, study: Any = None, **detail: Any) -> AuditEntry:
    """Append one event. ``obj`` is a model instance, or a model class when there is no row
    (a failed login of an unknown username); ``study`` defaults to the object's study.
    ``detail`` (JSON-serialisable; dates and UUIDs become text) lands in ``additional_data``."""
    if not isinstance(kind, str) or not KIND.match(kind):
        raise ValueError(f"audit kind must be dotted lower-case words, not {kind!r}")
    if isinstance(obj, type) and issubclass(obj, models.Model):
        content_type, pk, label = ContentType.objects.get_for_model(obj), "", ""
    elif isinstance(obj, models.Model):
        content_type, pk, label = ContentType.objects.get_for_model(obj), str(obj.pk), str(obj)
    else:
        raise TypeError(f"audit object must be a model instance or class, not {type(obj)!r}")
    user = actor if isinstance(actor, get_user_model()) and actor.is_authenticated else None
    if study is None and isinstance(obj, models.Model):
        study_id = study_id_of(obj)
    else:
        study_id = getattr(study, "pk", study)
    return AuditEntry.objects.create(
        kind=kind,
        action=LogEntry.Action.ACCESS,
        content_type=content_type,
        object_pk=pk,
        object_id=int(pk) if pk.isdigit() else None,
        object_repr=label or detail.get("username", "") or content_type.name,
        actor=user,
        actor_email=getattr(user, "email", None) or None,
        study_id=study_id,
        changes={},
        additional_data=json.loads(json.dumps(detail, cls=DjangoJSONEncoder)) or None,
        cid=get_cid(),
    )
