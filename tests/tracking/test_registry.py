import socket

import pytest

from tests.tracking.factories import CommerceIntegrationFactory, magento_integration, shopify_integration
from tracking.clients.base import OrderClientError
from tracking.clients.magento2 import Magento2Client
from tracking.clients.registry import (
    KIND_CLIENTS,
    client_for,
    credential_keys,
    integration_check,
    integration_validate,
)
from tracking.clients.shopify import ShopifyClient
from tracking.models import CommerceIntegration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]


def build(kind: str = "shopify", **fields) -> CommerceIntegration:
    return CommerceIntegrationFactory.build(kind=kind, **fields)


def test_every_kind_has_a_client():
    assert set(KIND_CLIENTS) == set(CommerceIntegration.Kind.values)


def test_it_builds_the_kinds_client_from_the_integration(shopify_server, magento_server):
    shopify = client_for(shopify_integration(shopify_server))
    magento = client_for(magento_integration(magento_server, store_code="da"))

    assert isinstance(shopify, ShopifyClient)
    assert isinstance(magento, Magento2Client)
    assert magento.store_code == "da"
    shopify.close()
    magento.close()


def test_a_client_is_not_built_from_unusable_settings():
    with pytest.raises(OrderClientError) as caught:
        client_for(build(credentials={"client_id": "id-only-0123"}))

    assert caught.value.code == "order_misconfigured"
    assert caught.value.permanent
    assert "client_secret" in caught.value.message
    assert "id-only-0123" not in caught.value.message


def test_clients_declare_their_credential_names():
    assert credential_keys("shopify") == ("access_token", "client_id", "client_secret")
    assert credential_keys("magento2") == (
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
        "bearer_token",
    )


def test_a_usable_integration_has_no_errors():
    assert integration_validate(build()) == {}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"credentials": {}}, {"access_token"}),
        ({"credentials": {"client_id": "abc"}}, {"client_secret"}),
        ({"api_version": "july-2025"}, {"api_version"}),
        ({"base_url": "http://shop.example.com"}, {"base_url"}),
        ({"base_url": "https://user:pw@shop.example.com"}, {"base_url"}),
        ({"carrier_tracking_urls": {"GLS": "https://gls.example/track"}}, {"carrier_tracking_urls"}),
        ({"credentials": "not json"}, {"credentials"}),
    ],
)
def test_shopify_settings_are_validated(fields, expected):
    assert set(integration_validate(build(**fields))) == expected


MAGENTO_OAUTH = {
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "at",
    "access_token_secret": "ats",
}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"credentials": MAGENTO_OAUTH}, set()),
        ({"credentials": {"consumer_key": "ck"}}, {"consumer_secret", "access_token", "access_token_secret"}),
        ({"credentials": {"bearer_token": "bt"}, "options": {"auth_mode": "bearer"}}, set()),
        ({"credentials": MAGENTO_OAUTH, "options": {"auth_mode": "bearer"}}, {"bearer_token"}),
        ({"credentials": MAGENTO_OAUTH, "options": {"auth_mode": "basic"}}, {"options"}),
        ({"credentials": MAGENTO_OAUTH, "store_code": "da dk"}, {"store_code"}),
    ],
)
def test_magento_settings_are_validated(fields, expected):
    fields.setdefault("base_url", "https://vin.example.dk")

    assert set(integration_validate(build("magento2", **fields))) == expected


@pytest.mark.parametrize("kind", CommerceIntegration.Kind.values)
def test_each_kind_reports_missing_credentials(kind):
    errors = integration_validate(build(kind, base_url="https://shop.example.com", credentials={}))

    assert errors


def test_validation_messages_never_contain_a_secret():
    errors = integration_validate(build("magento2", credentials={"consumer_key": "ck-secret-value-123"}))

    assert "ck-secret-value-123" not in str(errors)


def test_check_reports_what_was_reached(shopify_server):
    assert integration_check(shopify_integration(shopify_server)) == (
        True,
        "Shopify store 'Nordic Vin' reached with API 2025-07; orders are readable.",
    )


def test_check_reports_a_refused_token(shopify_server):
    integration = shopify_integration(
        shopify_server, credentials={"access_token": "shpat_revoked_0123456789"}
    )

    ok, reason = integration_check(integration)

    assert not ok
    assert reason == "Shopify refused the credentials (HTTP 401); check them in admin."


def test_check_names_a_store_code_that_does_not_exist(magento_server):
    ok, reason = integration_check(magento_integration(magento_server, store_code="dk"))

    assert not ok
    assert reason == f"store code 'dk' does not exist in the Magento 2 shop at {magento_server.base_url}."


def test_check_reports_a_wrong_magento_signature(magento_server):
    credentials = magento_server.oauth_credentials | {"consumer_secret": "wrong-secret-0123456789"}

    ok, reason = integration_check(magento_integration(magento_server, credentials=credentials))

    assert not ok
    assert reason == "Magento 2 refused the credentials (HTTP 401); check them in admin."


def test_check_reports_a_misconfiguration_without_calling(shopify_server):
    ok, reason = integration_check(shopify_integration(shopify_server, credentials={"client_id": "id-only"}))

    assert not ok
    assert reason.startswith("misconfigured: client_secret: Required")
    assert "id-only" not in reason
    assert shopify_server.requests == []


def test_check_reports_an_address_that_cannot_be_reached():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    integration = CommerceIntegrationFactory(base_url=f"http://127.0.0.1:{port}")

    ok, reason = integration_check(integration)

    assert not ok
    assert reason == f"could not reach http://127.0.0.1:{port} (unavailable): Shopify could not be reached."


def test_check_reports_a_timeout(shopify_server, settings):
    settings.TRACKING_HTTP_TIMEOUT_SECONDS = 0.1
    shopify_server.delay_next(3, seconds=0.4)

    ok, reason = integration_check(shopify_integration(shopify_server))

    assert not ok
    assert reason.startswith(f"could not reach {shopify_server.base_url} (timeout)")
