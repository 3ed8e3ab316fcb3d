import pytest

from tests.fakes.commerce.distributor_server import distributor_server  # noqa: F401  (fixture)
from tests.fakes.commerce.magento_server import magento_server  # noqa: F401  (fixture)
from tests.fakes.commerce.shopify_server import shopify_server  # noqa: F401  (fixture)


@pytest.fixture
def fast_http(settings):
    """Retry waits and timeouts small enough that failure tests take a fraction of a second."""
    settings.TRACKING_HTTP_TIMEOUT_SECONDS = 0.5
    settings.TRACKING_HTTP_BUDGET_SECONDS = 3.0
    settings.TRACKING_HTTP_BACKOFF_SECONDS = 0.01
