"""Staff analytics: processing time, success rate, types and uploads per day, the queue, and the
tutor's tokens and cost from telemetry; in the API (staff only) and the admin page's charts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chatplatform.telemetry.models import CallRecord
from tests.tutor.factories import ChunkFactory, DocumentFactory, LearnerFactory, learner_client
from tutor.models import Chunk, Document

pytestmark = pytest.mark.django_db

URL = "/api/v1/tutor/staff/analytics/"


@pytest.fixture
def documents():
    now = timezone.now()
    for seconds, kind in ((1.0, "pdf"), (2.0, "pdf"), (3.0, "docx")):
        DocumentFactory(kind=kind, started_at=now, finished_at=now + timedelta(seconds=seconds))
    DocumentFactory(
        kind="txt",
        status=Document.Status.FAILED,
        error_code="document_encrypted",
        started_at=now,
        finished_at=now + timedelta(seconds=4),
    )
    DocumentFactory(kind="markdown", status=Document.Status.PENDING, progress=0)
    ChunkFactory(embedding_status=Chunk.EmbeddingStatus.FAILED)


def call(feature, model, tokens_in, tokens_out):
    now = timezone.now()
    CallRecord.objects.create(
        started_at=now,
        day=now.date(),
        operation="json",
        provider="openai",
        request_model=model,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        duration_ms=10,
        tenant_type="learner",
        tenant_id="1",
        feature=feature,
    )


def test_document_figures_add_up(staff_client, documents):
    body = staff_client.get(URL, {"days": 7}).json()
    docs = body["documents"]
    assert docs["uploaded"] == 6  # the chunk's own document counts too
    assert docs["success_rate"] == pytest.approx(4 / 5)
    assert docs["by_kind"] == {"pdf": 2, "docx": 1, "txt": 2, "markdown": 1}
    assert docs["errors"] == {"document_encrypted": 1}
    assert (docs["processing_ms"]["count"], docs["processing_ms"]["p50"], docs["processing_ms"]["max"]) == (
        4,
        2000.0,
        4000.0,
    )
    assert len(docs["per_day"]) in (7, 8)
    assert sum(day["uploads"] for day in docs["per_day"]) == 6
    assert body["embeddings"]["failed"] == 1


def test_tokens_and_cost_come_from_the_tutors_telemetry_only(staff_client, monkeypatch):
    prices = {"gpt-4o-mini": {"input_per_million": 1.0, "output_per_million": 2.0}}
    monkeypatch.setattr("tutor.staff_analytics.llm_prices", lambda: prices)
    call("tutor_quiz", "gpt-4o-mini", 1_000_000, 500_000)
    call("tutor_embeddings", "text-embedding-3-small", 2000, 0)
    call("answer", "gpt-4o-mini", 9_999, 9_999)  # the shop chatbot's
    usage = staff_client.get(URL).json()["usage"]
    assert (usage["calls"], usage["input_tokens"], usage["output_tokens"]) == (2, 1_002_000, 500_000)
    assert usage["cost_usd"] == "2.000000"
    assert {g["feature"] for g in usage["by_feature"]} == {"tutor_quiz", "tutor_embeddings"}


def test_learners_may_not_see_staff_analytics(client):
    assert learner_client(LearnerFactory()).get(URL).status_code == 403
    assert client.get(URL).status_code == 401


def test_the_admin_page_draws_the_charts(staff_client, documents):
    response = staff_client.get("/admin/tutor/document/analytics/", {"days": 7})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="tutor-chart"') == 7
    assert "Documents by type" in page
    assert "<rect" in page
    assert "document_encrypted" in page
    assert "80%" in page
    assert staff_client.get("/admin/tutor/document/").status_code == 200
