import pytest
from django.core.exceptions import ImproperlyConfigured

from chatplatform.ai.base import ProviderError
from chatplatform.calls import CallFailed, FailureKind, classify_failure
from chatplatform.vectorstores.base import VectorStoreError
from tracking.clients.base import OrderClientError

T, P, C, IN = FailureKind.TRANSIENT, FailureKind.PERMANENT, FailureKind.CONFIGURATION, FailureKind.INPUT


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (ProviderError("provider_timeout", "slow"), T),
        (ProviderError("provider_unavailable", "down", status_code=503), T),
        (ProviderError("provider_rate_limited", "busy", status_code=429), T),
        (ProviderError("provider_rate_limited", "quota", status_code=429, retryable=False), P),
        (ProviderError("provider_stream_interrupted", "cut"), T),
        (ProviderError("provider_auth_failed", "key", status_code=401), C),
        (ProviderError("provider_not_supported", "local"), C),
        (ProviderError("provider_bad_response", "no model", status_code=404), C),
        (ProviderError("provider_bad_response", "bad image", status_code=400), IN),
        (ProviderError("provider_bad_response", "not JSON"), P),
        (VectorStoreError("vector_store_timeout", "slow"), T),
        (VectorStoreError("vector_store_unavailable", "down"), T),
        (VectorStoreError("vector_store_auth_failed", "key"), C),
        (VectorStoreError("vector_store_index_not_found", "gone"), C),
        (VectorStoreError("vector_store_dimension_mismatch", "width"), IN),
        (VectorStoreError("vector_store_error", "refused", permanent=True), P),
        (OrderClientError("order_timeout", "slow"), T),
        (OrderClientError("order_unavailable", "down"), T),
        (OrderClientError("order_rate_limited", "busy"), T),
        (OrderClientError("order_auth_failed", "key", permanent=True), C),
        (OrderClientError("order_misconfigured", "url", permanent=True), C),
        (OrderClientError("order_bad_response", "html"), P),
        (CallFailed(FailureKind.TRANSIENT, OrderClientError("order_bad_response", "throttled")), T),
        (ImproperlyConfigured("no key"), C),
        (TimeoutError(), T),
        (ConnectionResetError(), T),
        (OSError("disk"), T),
        (ValueError("bad"), IN),
        (RuntimeError("bug"), P),
    ],
    ids=lambda value: getattr(value, "code", None) or type(value).__name__,
)
def test_each_failure_has_its_kind(error, kind):
    assert classify_failure(error) is kind
