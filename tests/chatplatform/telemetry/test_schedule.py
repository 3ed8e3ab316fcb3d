"""The hourly beat row and the job kind of the daily aggregate."""

import json

import pytest
from django_celery_beat.models import PeriodicTask

pytestmark = pytest.mark.django_db


def test_the_aggregate_runs_hourly_as_a_job():
    task = PeriodicTask.objects.get(name="Aggregate telemetry by day")

    assert task.task == "chatplatform.jobs.tasks.enqueue_kind"
    assert json.loads(task.kwargs) == {"kind": "telemetry_aggregate"}
    assert (task.interval.every, task.interval.period) == (1, "hours")


def test_the_job_kind_and_the_retention_cleaner_are_registered():
    registry = pytest.importorskip("chatplatform.jobs.registry")
    pytest.importorskip("chatplatform.retention")

    kind = registry.kind_get("telemetry_aggregate")

    assert kind.payload_validate({"days": ["2024-03-01"]}) == {"days": ["2024-03-01"]}
