"""The embedding queue's beat row: a `tutor_embedding_queue` job every 30 seconds (editable in
admin). Uploads also wake the queue at once; the beat picks up retries and dead workers' claims."""

import json

from django.db import migrations
from django.utils import timezone

NAME = "Tutor embedding queue"
ROW = {
    "task": "chatplatform.jobs.tasks.enqueue_kind",
    "kwargs": json.dumps({"kind": "tutor_embedding_queue", "payload": {}}),
    "description": "Creates a tutor_embedding_queue job: embeds pending tutor passages in batches.",
}


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval = IntervalSchedule.objects.filter(every=30, period="seconds").order_by("pk").first()
    if interval is None:
        interval = IntervalSchedule.objects.create(every=30, period="seconds")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={**ROW, "interval": interval})
    _schedule_changed(apps)


def schedule_delete(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()
    _schedule_changed(apps)


def _schedule_changed(apps):
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("tutor", "0001_initial"),
        ("jobs", "0002_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
