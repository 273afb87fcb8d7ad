import io

import pytest
from django.test import Client

from tests.exports.conftest import finished_study  # noqa: F401  (a study with answer revisions)
from tests.factories import PASSWORD, CoordinatorFactory


@pytest.fixture
def coordinator():
    user = CoordinatorFactory()
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert client.login(username=user.username, password=PASSWORD)
    client.user = user
    return client


def csv_upload(text: str, name: str = "labels.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = name
    return upload
