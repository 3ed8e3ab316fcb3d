"""Admin: recent snapshots, and the current state run live, linked from the index."""

import pytest
from django.utils import timezone

from chatplatform.monitoring import probes
from chatplatform.monitoring.models import HealthSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick_ping(monkeypatch):
    monkeypatch.setattr(probes, "WORKER_PING_TIMEOUT_SECONDS", 0.3)


def test_the_index_links_snapshots_and_the_current_state(staff_client):
    page = staff_client.get("/admin/").content.decode()

    assert "/admin/monitoring/healthsnapshot/" in page
    assert "/admin/monitoring/currenthealth/" in page


def test_snapshots_list_recent_first_with_their_status(staff_client):
    HealthSnapshot.objects.create(
        taken_at=timezone.now() - timezone.timedelta(minutes=5), status="ok", checks={}, queue_depth={}
    )
    HealthSnapshot.objects.create(
        taken_at=timezone.now(),
        status="degraded",
        problems=["broker down"],
        checks={},
        queue_depth={"chat": 3},
        error_rate=0.25,
    )

    response = staff_client.get("/admin/monitoring/healthsnapshot/")

    listed = list(response.context["cl"].result_list)
    assert [snapshot.status for snapshot in listed] == ["degraded", "ok"]
    page = response.content.decode()
    assert "broker down" in page
    assert "chat 3" in page
    assert "25.0%" in page


def test_the_current_state_runs_the_checks_live(staff_client):
    response = staff_client.get("/admin/monitoring/currenthealth/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Current state" in page
    for name in ("database", "cache", "broker", "workers", "scheduler", *probes.queue_names()):
        assert name in page
    assert not HealthSnapshot.objects.exists()  # nothing is stored


def test_the_current_state_is_for_staff_only(client):
    response = client.get("/admin/monitoring/currenthealth/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
