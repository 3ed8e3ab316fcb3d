"""The schedule of platform jobs as django-celery-beat rows (editable in admin): the system health
check every 5 minutes, retention cleanup every hour (both as jobs, one per slot), and the sweeper
of jobs whose lease expired every minute."""

import json

from django.db import migrations
from django.utils import timezone

ENQUEUE = "chatplatform.jobs.tasks.enqueue_kind"
ROWS = [
    {
        "name": "System health check",
        "task": ENQUEUE,
        "every": (5, "minutes"),
        "kwargs": {"kind": "health_check", "payload": {}},
        "description": "Creates a health_check job: database, Redis, workers, queue depth.",
    },
    {
        "name": "Retention cleanup",
        "task": ENQUEUE,
        "every": (1, "hours"),
        "kwargs": {"kind": "retention_cleanup", "payload": {}},
        "description": "Creates a retention_cleanup job: every registered cleaner, older than RETENTION_DAYS.",
    },
    {
        "name": "Sweep jobs whose lease expired",
        "task": "chatplatform.jobs.tasks.jobs_sweep",
        "every": (1, "minutes"),
        "kwargs": {},
        "description": "Requeues running jobs whose worker died (or fails them without attempts left) "
        "and wakes workers up for waiting jobs.",
    },
]


def schedule_create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for row in ROWS:
        every, period = row["every"]
        interval = IntervalSchedule.objects.filter(every=every, period=period).order_by("pk").first()
        if interval is None:
            interval = IntervalSchedule.objects.create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=row["name"],
            defaults={
                "task": row["task"],
                "interval": interval,
                "kwargs": json.dumps(row["kwargs"]),
                "description": row["description"],
            },
        )
    _schedule_changed(apps)


def schedule_delete(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[row["name"] for row in ROWS]).delete()
    _schedule_changed(apps)


def _schedule_changed(apps):
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0001_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_create, schedule_delete)]
