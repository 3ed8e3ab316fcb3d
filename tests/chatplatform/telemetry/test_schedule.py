"""The hourly beat row, the job kind of the daily aggregate and the retention cleaner."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chatplatform.jobs.registry import kind_get
from chatplatform.retention import cleaners
from chatplatform.telemetry.models import CallRecord, DailyAggregate
from tests.chatplatform.telemetry.factories import call_record

pytestmark = pytest.mark.django_db


class _Context:
    job_id, attempt = 1, 1

    def __init__(self):
        self.reported = []

    def progress(self, percent, message=""):
        self.reported.append(percent)


def test_the_aggregate_runs_hourly_as_a_job():
    task = PeriodicTask.objects.get(name="Aggregate telemetry by day")

    assert task.task == "chatplatform.jobs.tasks.enqueue_kind"
    assert json.loads(task.kwargs) == {"kind": "telemetry_aggregate"}
    assert (task.interval.every, task.interval.period) == (1, "hours")


def test_the_job_kind_aggregates_the_days_given_or_pending():
    record = call_record()
    kind = kind_get("telemetry_aggregate")
    context = _Context()

    result = kind.run(context, kind.payload_validate({}))

    assert result["days"] == [record.day.isoformat()]
    assert DailyAggregate.objects.get().calls == 1
    assert context.reported[-1] == 100
    assert kind.payload_validate({"days": ["2024-03-01"]}) == {"days": ["2024-03-01"]}


def test_old_records_go_with_the_retention_cleanup():
    call_record(at=timezone.now() - timedelta(days=45))
    call_record()

    deleted = cleaners()["telemetry records"](timezone.now() - timedelta(days=30))

    assert deleted == 1
    assert CallRecord.objects.count() == 1
