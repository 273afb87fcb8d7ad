import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_openapi_schema_is_served_and_covers_the_apis(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = set(schema["paths"])
    for expected in [
        "/api/reading/assignments/{id}/submit/",
        "/api/reading/assignments/{id}/assistance/",
        "/api/studies/",
        "/api/cases/uploads/",
        "/api/exports/studies/{id}/reads/{fmt}/",
        "/api/ops/worker-probes/",
    ]:
        assert expected in paths, expected
    assert client.get("/api/docs/").status_code == 200


def test_schema_generation_has_no_errors(capsys):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
