import pytest
import redis as redis_lib


@pytest.fixture
def empty_queue(settings):
    """The broker's queues empty before and after the test (no message of another test)."""
    client = redis_lib.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield
    client.flushdb()
