"""Schedules the sweeper of answers left `streaming` every minute (editable in admin)."""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "Sweep answers left streaming"
TASK = "conversations.tasks.answers_sweep"


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute = IntervalSchedule.objects.filter(every=1, period="minutes").order_by("pk").first()
    if every_minute is None:
        every_minute = IntervalSchedule.objects.create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": TASK,
            "interval": every_minute,
            "queue": "maintenance",
            "description": "Stores answers whose final write failed (kept in Redis) and marks "
            "answers of web processes that are gone as interrupted.",
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
        ("conversations", "0005_answer_owner_and_interrupted"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
