"""The installed version is shown in the footer and the API schema."""

import pytest

from readerstudy.version import __version__
from tests.factories import PASSWORD, CoordinatorFactory

pytestmark = pytest.mark.django_db


def test_the_footer_and_the_schema_name_the_installed_version(client):
    from importlib.metadata import version

    assert __version__ == version("readerstudy")
    page = client.get("/accounts/login/").content.decode()
    assert f"readerstudy {__version__}" in page
    client.login(username=CoordinatorFactory().username, password=PASSWORD)
    assert f"readerstudy {__version__}" in client.get("/studies/").content.decode()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["info"]["version"] == __version__
