import pytest

from tests.chatplatform.jobs import probe_kinds  # noqa: F401  (registers the test kinds)


@pytest.fixture(autouse=True)
def _quick_retries(settings):
    settings.JOBS_RETRY_BACKOFF_SECONDS = 0
    settings.JOBS_RETRY_BACKOFF_MAX_SECONDS = 0
