"""`GET /metrics`: who may read it, and that Prometheus can parse what it says."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chatplatform.monitoring.metrics import ANSWERS
from chatplatform.monitoring.probes import queue_names

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789"


def families(response) -> dict:
    return {family.name: family for family in text_string_to_metric_families(response.content.decode())}


def test_it_refuses_anonymous_requests_with_a_json_error(client):
    response = client.get("/metrics")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_a_logged_in_user_who_is_not_staff(client, django_user_model):
    client.force_login(django_user_model.objects.create_user(username="shopper", password="pw-123456"))

    response = client.get("/metrics")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_it_refuses_a_wrong_bearer_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert TOKEN not in response.content.decode()


def test_it_refuses_every_bearer_token_when_none_is_set(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", headers={"Authorization": "Bearer "})

    assert response.status_code == 401


def test_it_accepts_the_bearer_token_and_parses(client, settings):
    settings.METRICS_TOKEN = TOKEN
    ANSWERS.labels("completed").inc()

    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    names = set(families(response))
    assert {
        "chatplatform_http_request_duration_seconds",
        "chatplatform_answers",
        "chatplatform_jobs",
        "chatplatform_queue_depth",
    } <= names


def test_it_accepts_staff(staff_client):
    response = staff_client.get("/metrics")

    assert response.status_code == 200
    parsed = families(response)
    depth = {sample.labels["queue"] for sample in parsed["chatplatform_queue_depth"].samples}
    assert depth == set(queue_names())
    assert {"chat", "ingestion", "maintenance"} <= depth


def test_it_labels_latency_by_url_pattern_never_by_raw_path(staff_client):
    staff_client.get("/healthz")
    staff_client.get("/chat/a-private-shop-name/")
    staff_client.get("/no-such-page-here")

    response = staff_client.get("/metrics")

    routes = {
        sample.labels["route"]
        for sample in families(response)["chatplatform_http_request_duration_seconds"].samples
    }
    assert {"healthz", "chat-demo", "unmatched"} <= routes
    text = response.content.decode()
    assert "a-private-shop-name" not in text
    assert "no-such-page-here" not in text


def test_it_only_answers_get(staff_client):
    assert staff_client.post("/metrics").status_code == 405
