"""The jobs API: staff see every job, an integration key only its chatbot's."""

import pytest

from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import jobs_run_available
from chatplatform.jobs.services import job_create
from conversations.models import ChatbotAPIKey
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration(client):
    chatbot = ChatbotFactory(chatbot_id="vinbar")
    ChatbotFactory(chatbot_id="other-shop")
    key = ChatbotAPIKey.objects.create_key(chatbot=chatbot, name="shop backend")[1]
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def test_staff_create_a_job_and_see_it(staff_client):
    response = staff_client.post(
        "/api/v1/jobs/", {"kind": "test_noop", "payload": {"steps": 1}, "priority": 7}, "application/json"
    )
    assert response.status_code == 201
    body = response.json()
    shown = (body["kind"], body["status"], body["priority"], body["created_by"])
    assert shown == ("test_noop", "pending", 7, "staff")
    assert staff_client.get(f"/api/v1/jobs/{body['id']}/").json()["id"] == body["id"]


def test_a_second_create_with_the_key_returns_the_first_job(staff_client):
    job = {"kind": "test_noop", "idempotency_key": "once"}
    first = staff_client.post("/api/v1/jobs/", job, "application/json")
    second = staff_client.post("/api/v1/jobs/", job, "application/json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]


@pytest.mark.parametrize(
    ("job", "field"),
    [
        ({"kind": "no_such_kind"}, "kind"),
        ({"kind": "test_noop", "payload": {"steps": -1}}, "payload"),
        ({"kind": "test_noop", "priority": 12}, "priority"),
        ({"payload": {}}, "kind"),
    ],
)
def test_an_invalid_job_is_a_400_with_the_field_errors_and_nothing_is_created(staff_client, job, field):
    response = staff_client.post("/api/v1/jobs/", job, "application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert not Job.objects.exists()


def test_the_list_filters_by_status_kind_and_creation_time(staff_client):
    done = job_create("test_noop", {})
    jobs_run_available(budget_seconds=60)
    waiting = job_create("test_fail", {})

    def listed(**filters) -> list[int]:
        return [job["id"] for job in staff_client.get("/api/v1/jobs/", filters).json()["results"]]

    assert listed(status="succeeded") == [done.pk]
    assert listed(kind="test_fail") == [waiting.pk]
    assert listed(created_after=waiting.created_at.isoformat()) == [waiting.pk]
    assert listed(created_before=waiting.created_at.isoformat()) == [done.pk]
    bad = staff_client.get("/api/v1/jobs/", {"status": "sleeping"})
    assert (bad.status_code, list(bad.json()["error"]["fields"])) == (400, ["status"])


def test_a_failed_job_shows_its_error_code_and_message(staff_client):
    job = job_create("test_fail", {})
    jobs_run_available(budget_seconds=60)
    body = staff_client.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "failed"
    assert body["attempts"] == body["max_attempts"] == 3
    assert body["error"] == {"code": "upstream_down", "message": "The upstream service did not answer."}


def test_cancel_and_retry(staff_client):
    job = job_create("test_noop", {})
    cancelled = staff_client.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    retried = staff_client.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert (retried.status_code, retried.json()["status"]) == (200, "pending")
    again = staff_client.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert (again.status_code, again.json()["error"]["code"]) == (409, "job_not_retryable")


def test_the_kinds_list_shows_payload_fields(staff_client):
    kinds = {kind["name"]: kind for kind in staff_client.get("/api/v1/jobs/kinds/").json()}
    assert {"knowledge_reindex", "retention_cleanup", "test_noop"} <= set(kinds)
    fields = {field["name"]: field for field in kinds["knowledge_reindex"]["payload"]}
    assert fields["chatbot"]["required"] is True
    assert kinds["knowledge_reindex"]["integrations"] is True


def test_an_integration_key_sees_and_creates_only_its_chatbots_jobs(integration):
    other = job_create("knowledge_reindex", {"chatbot": "other-shop"})
    response = integration.post("/api/v1/jobs/", {"kind": "knowledge_reindex"}, "application/json")
    assert response.status_code == 201
    mine = response.json()
    assert (mine["chatbot"], mine["payload"]) == ("vinbar", {"chatbot": "vinbar"})
    assert (mine["origin"], mine["created_by"]) == ("integration", "API key shop backend")
    assert [job["id"] for job in integration.get("/api/v1/jobs/").json()["results"]] == [mine["id"]]
    assert integration.get(f"/api/v1/jobs/{other.pk}/").status_code == 404
    assert integration.post(f"/api/v1/jobs/{other.pk}/cancel/").status_code == 404
    assert [kind["name"] for kind in integration.get("/api/v1/jobs/kinds/").json()] == ["knowledge_reindex"]


def test_an_integration_key_cannot_reach_another_chatbot_or_platform_kinds(integration):
    job = {"kind": "knowledge_reindex", "payload": {"chatbot": "other-shop"}}
    foreign = integration.post("/api/v1/jobs/", job, "application/json")
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (400, "invalid")
    platform = integration.post("/api/v1/jobs/", {"kind": "retention_cleanup"}, "application/json")
    assert (platform.status_code, platform.json()["error"]["code"]) == (403, "kind_not_allowed")
    assert not Job.objects.exists()


def test_without_credentials_nothing_is_shown(client):
    response = client.get("/api/v1/jobs/")
    assert response.status_code in {401, 403}
    assert "error" in response.json()


def test_the_admin_lists_jobs_with_a_progress_bar_and_its_polling_script(staff_client):
    job = job_create("test_noop", {})
    page = staff_client.get("/admin/jobs/job/").content.decode()
    assert f'data-job-id="{job.pk}"' in page
    assert "<progress" in page
    assert "jobs/job_progress.js" in page
    assert "cancel_jobs" in page
    assert "retry_jobs" in page
    change = staff_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert "jobs/job_progress.js" in change
    assert "<progress" in change


def test_the_admin_cancel_action_cancels_the_selected_jobs(staff_client):
    job = job_create("test_noop", {})
    staff_client.post("/admin/jobs/job/", {"action": "cancel_jobs", "_selected_action": [job.pk]})
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
