import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz_reports_each_dependency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["detail"] == connection.vendor


def test_healthz_fails_with_503_when_the_broker_is_unreachable(client, monkeypatch):
    from readerstudy.celery import app

    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_healthz_is_public_but_home_requires_login(client):
    assert client.get("/healthz").status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
