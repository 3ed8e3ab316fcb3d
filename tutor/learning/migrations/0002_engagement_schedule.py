"""Schedules the tutor's engagement scores every 15 minutes (a job of kind `tutor_engagement`)."""

import json

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Tutor engagement scores"
TASK = "chatplatform.jobs.tasks.enqueue_kind"


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every = IntervalSchedule.objects.filter(every=15, period="minutes").order_by("pk").first()
    if every is None:
        every = IntervalSchedule.objects.create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": every,
            "kwargs": json.dumps({"kind": "tutor_engagement"}),
            "queue": "maintenance",
            "description": "Recomputes the engagement scores of study sessions active in the last 30 days "
            "whose score is older than 15 minutes or than their latest activity.",
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
        ("tutor_learning", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
