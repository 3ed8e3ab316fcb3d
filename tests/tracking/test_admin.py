import json
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection

from tests.conversations.factories import ChatbotFactory
from tests.tracking.factories import CommerceIntegrationFactory, magento_integration, shopify_integration
from tracking.models import CommerceIntegration

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]

TOKEN = "shpat_admin_0123456789_secret_zz"
LIST_URL = "/admin/tracking/commerceintegration/"
ADD_URL = f"{LIST_URL}add/"
CHANGE_URL = LIST_URL + "{}/change/"


def form_data(integration: CommerceIntegration, **changes) -> dict:
    data = {
        "chatbot": str(integration.chatbot_id),
        "kind": integration.kind,
        "is_enabled": "on",
        "base_url": integration.base_url,
        "api_version": integration.api_version,
        "store_code": integration.store_code,
        "project_key": "",
        "region": "",
        "options": json.dumps(integration.options),
        "carrier_tracking_urls": json.dumps(integration.carrier_tracking_urls),
        "credentials_json": "",
    }
    data.update(changes)
    return data


def stored(integration: CommerceIntegration) -> dict:
    integration.refresh_from_db()
    return json.loads(integration.credentials or "{}")


def test_the_change_page_shows_masked_hints_and_never_a_secret(staff_client):
    integration = CommerceIntegrationFactory(credentials={"access_token": TOKEN})

    html = staff_client.get(CHANGE_URL.format(integration.pk)).content.decode()

    assert TOKEN not in html
    assert TOKEN[4:-2] not in html
    assert "access_token: shpa••••••••zz" in html
    for name in ("access_token", "client_id", "consumer_secret", "bearer_token"):
        field = re.search(rf'<input[^>]*name="new_{name}"[^>]*>', html).group(0)
        assert 'type="password"' in field
        assert "value=" not in field
    assert "auth_mode" in html  # the options help names the keys per kind


def test_saving_without_new_values_keeps_the_credentials(staff_client):
    integration = CommerceIntegrationFactory(credentials={"access_token": TOKEN})

    response = staff_client.post(
        CHANGE_URL.format(integration.pk), form_data(integration, api_version="2025-10")
    )

    assert response.status_code == 302
    assert stored(integration) == {"access_token": TOKEN}
    assert integration.api_version == "2025-10"


def test_a_new_value_replaces_only_that_secret(staff_client):
    integration = CommerceIntegrationFactory(credentials={"client_id": "id-1", "client_secret": "secret-1"})

    staff_client.post(CHANGE_URL.format(integration.pk), form_data(integration, new_client_secret="secret-2"))

    assert stored(integration) == {"client_id": "id-1", "client_secret": "secret-2"}


def test_clearing_drops_the_stored_credentials_before_new_ones_apply(staff_client, magento_server):
    integration = magento_integration(magento_server)

    response = staff_client.post(
        CHANGE_URL.format(integration.pk),
        form_data(
            integration,
            clear_credentials="on",
            new_bearer_token="bearer-new-0123",
            options='{"auth_mode": "bearer"}',
        ),
    )

    assert response.status_code == 302
    assert stored(integration) == {"bearer_token": "bearer-new-0123"}


def test_all_credentials_can_be_replaced_as_json(staff_client):
    integration = CommerceIntegrationFactory(credentials={"access_token": TOKEN})

    staff_client.post(
        CHANGE_URL.format(integration.pk),
        form_data(integration, credentials_json='{"client_id": "id-9", "client_secret": "secret-9"}'),
    )

    assert stored(integration) == {"client_id": "id-9", "client_secret": "secret-9"}


def test_validation_errors_are_shown_on_the_fields(staff_client):
    integration = CommerceIntegrationFactory(credentials={"client_id": "id-1"})

    response = staff_client.post(
        CHANGE_URL.format(integration.pk), form_data(integration, api_version="latest")
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "new_client_secret" in form.errors
    assert "api_version" in form.errors
    assert stored(integration) == {"client_id": "id-1"}


def test_an_integration_is_created_with_encrypted_credentials(staff_client):
    chatbot = ChatbotFactory()
    data = form_data(
        CommerceIntegration(chatbot=chatbot, kind="shopify", base_url="https://nordic-vin.myshopify.com"),
        new_access_token=TOKEN,
        carrier_tracking_urls='{"GLS": "https://gls.example/track/{tracking_number}"}',
    )

    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 302
    integration = CommerceIntegration.objects.get(chatbot=chatbot)
    assert stored(integration) == {"access_token": TOKEN}
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM tracking_commerceintegration WHERE id = %s", [integration.pk])
        (raw,) = cursor.fetchone()
    assert TOKEN not in raw
    assert "access_token" not in raw


def test_an_emptied_json_box_saves_an_empty_object(staff_client):
    integration = CommerceIntegrationFactory(
        carrier_tracking_urls={"GLS": "https://gls.example/{tracking_number}"}
    )

    staff_client.post(CHANGE_URL.format(integration.pk), form_data(integration, carrier_tracking_urls=""))

    integration.refresh_from_db()
    assert integration.carrier_tracking_urls == {}


def test_the_list_shows_integrations_by_chatbot(staff_client):
    integration = CommerceIntegrationFactory(credentials={"access_token": TOKEN})

    html = staff_client.get(f"{LIST_URL}?kind__exact=shopify").content.decode()

    assert integration.chatbot.chatbot_id in html
    assert TOKEN not in html


def run_test_connection(staff_client, *integrations: CommerceIntegration) -> list[tuple[str, str]]:
    response = staff_client.post(
        LIST_URL, {"action": "test_connection", "_selected_action": [str(i.pk) for i in integrations]}
    )
    assert response.status_code == 302
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_the_test_connection_action_reports_success(staff_client, shopify_server):
    integration = shopify_integration(shopify_server)

    assert run_test_connection(staff_client, integration) == [
        (
            "success",
            f"{integration.chatbot.chatbot_id} (Shopify (GraphQL Admin API)): "
            "Shopify store 'Nordic Vin' reached with API 2025-07; orders are readable.",
        )
    ]


def test_the_test_connection_action_reports_the_precise_failure(staff_client, shopify_server, magento_server):
    refused = shopify_integration(shopify_server, credentials={"access_token": TOKEN})
    wrong_store = magento_integration(magento_server, store_code="dk")

    reports = {
        message.split(":")[0]: (level, message)
        for level, message in run_test_connection(staff_client, refused, wrong_store)
    }

    level, message = reports[f"{refused.chatbot.chatbot_id} (Shopify (GraphQL Admin API))"]
    assert level == "error"
    assert message.endswith("Shopify refused the credentials (HTTP 401); check them in admin.")
    assert TOKEN not in message
    level, message = reports[f"{wrong_store.chatbot.chatbot_id} (Magento 2 (REST))"]
    assert level == "error"
    assert "store code 'dk' does not exist" in message
