"""Audit entries cannot be changed or deleted: not by the model, the queryset, the admin or a URL."""

import pytest
from django.urls import get_resolver

from readerstudy import audit
from readerstudy.audit.models import AuditEntry, AuditLogImmutable
from tests.factories import AdminFactory, ReaderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry():
    user = ReaderFactory()
    return audit.record(user, "login", user, path="/accounts/login/")


def test_saving_or_deleting_an_entry_raises(entry):
    entry.kind = "forged"
    with pytest.raises(AuditLogImmutable, match="cannot be changed"):
        entry.save()
    with pytest.raises(AuditLogImmutable, match="cannot be deleted"):
        entry.delete()
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.filter(pk=entry.pk).update(kind="forged")
    with pytest.raises(AuditLogImmutable):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).kind == "login"


def test_the_admin_lists_entries_but_cannot_change_or_delete_them(client, entry):
    admin = AdminFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    base = "/admin/audit/auditentry/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{entry.pk}/delete/").status_code == 403
    before = AuditEntry.objects.count()
    client.post(base, {"action": "delete_selected", "_selected_action": [entry.pk]})
    client.post(f"{base}{entry.pk}/change/", {"kind": "forged"})
    assert AuditEntry.objects.get(pk=entry.pk).kind == "login"
    # the two posts above logged nothing destructive; only entries can have been added
    assert AuditEntry.objects.count() >= before


def test_no_route_outside_the_admin_writes_entries():
    """The audit app's routes are the study trail page and its CSV, both read-only GETs."""
    from readerstudy.audit import urls

    assert [p.name for p in urls.urlpatterns] == ["study-audit", "study-audit-csv"]
    assert "audit/" in {str(p.pattern) for p in get_resolver().url_patterns}


def test_record_refuses_a_malformed_kind_or_object():
    user = ReaderFactory()
    with pytest.raises(ValueError, match="audit kind"):
        audit.record(user, "Not A Kind", user)
    with pytest.raises(TypeError, match="model instance or class"):
        audit.record(user, "login", "user")


def test_deleting_a_user_keeps_their_entries(entry):
    user = entry.actor
    email = entry.actor_email
    user.delete()
    kept = AuditEntry.objects.get(pk=entry.pk)
    assert kept.actor is None and kept.actor_email == email and kept.kind == "login"
