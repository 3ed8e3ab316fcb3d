"""Unknown API paths answer with the API's JSON error, with DEBUG on (make run) or off."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_a_json_not_found(client, settings, debug, method):
    settings.DEBUG = debug

    response = getattr(client, method)("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_api_path_with_a_csrf_checking_client_is_still_not_found(settings):
    from django.test import Client

    settings.DEBUG = True

    response = Client(enforce_csrf_checks=True).post("/api/v1/no-such-thing/", {"a": "b"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_known_path_without_its_slash_still_redirects(client):
    response = client.get("/api/docs")

    assert response.status_code == 301
    assert response.headers["Location"] == "/api/docs/"
