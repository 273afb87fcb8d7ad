import pytest

SECRET = b"test-site-secret-0123456789abcdef"


@pytest.fixture
def secret() -> bytes:
    return SECRET


@pytest.fixture
def deidentifier():
    from readerstudy.cases.dicom.deid import Deidentifier, DeidOptions

    return Deidentifier(DeidOptions(secret=SECRET))
