"""Schedules the daily telemetry aggregate every hour (a job of kind `telemetry_aggregate`)."""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Aggregate telemetry by day"
TASK = "chatplatform.jobs.tasks.enqueue_kind"


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour = IntervalSchedule.objects.filter(every=1, period="hours").order_by("pk").first()
    if every_hour is None:
        every_hour = IntervalSchedule.objects.create(every=1, period="hours")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": every_hour,
            "kwargs": json.dumps({"kind": "telemetry_aggregate"}),
            "queue": "maintenance",
            "description": "Recomputes the daily telemetry aggregates (calls, errors, tokens, cost, "
            "latency) of the days that received records since the last run.",
        },
    )
    _schedule_changed(apps)


def schedule_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME).delete()
    _schedule_changed(apps)


def _schedule_changed(apps):
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("telemetry", "0001_call_records_and_daily_aggregates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
