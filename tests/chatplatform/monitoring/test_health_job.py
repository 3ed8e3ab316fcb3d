"""The `health_check` job kind stores a snapshot; its jobs show in /metrics."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from chatplatform.jobs.models import Job
from chatplatform.jobs.registry import kind_get
from chatplatform.jobs.runner import job_claim, job_run
from chatplatform.jobs.services import job_create
from chatplatform.monitoring import probes
from chatplatform.monitoring.models import HealthSnapshot
from chatplatform.retention import cleaners

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_ping(monkeypatch):
    monkeypatch.setattr(probes, "WORKER_PING_TIMEOUT_SECONDS", 0.3)


def test_the_kind_is_registered_without_a_payload():
    kind = kind_get("health_check")

    assert kind is not None
    assert kind.payload is None


def test_a_health_check_job_stores_a_snapshot_and_returns_its_summary():
    job = job_create("health_check", {})

    job_run(job_claim())

    job.refresh_from_db()
    snapshot = HealthSnapshot.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["snapshot"] == snapshot.pk
    assert job.result["status"] == snapshot.status
    assert set(job.result["queue_depth"]) == set(probes.queue_names())


def test_metrics_count_jobs_by_kind_and_status(staff_client):
    job_create("health_check", {})
    job_create("health_check", {}, idempotency_key="second")

    response = staff_client.get("/metrics")

    samples = {
        (sample.labels["kind"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        if family.name == "chatplatform_jobs"
        for sample in family.samples
    }
    assert samples[("health_check", Job.Status.PENDING)] == 2


def test_retention_removes_old_snapshots_and_keeps_recent_ones():
    now = timezone.now()
    old = HealthSnapshot.objects.create(taken_at=now - timedelta(days=40), status="ok")
    recent = HealthSnapshot.objects.create(taken_at=now - timedelta(days=1), status="ok")

    deleted = cleaners()["health snapshots"](now - timedelta(days=30))

    assert deleted == 1
    assert list(HealthSnapshot.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not HealthSnapshot.objects.filter(pk=old.pk).exists()
