"""Beat rows that apps' data migrations create: one django-celery-beat interval task each,
created if missing (staff edits survive re-running), removed on unapplying.

Called with the migration's historical `apps`, so it stays valid as the beat models change.
"""

import json
from typing import Any

from django.db import migrations
from django.utils import timezone

ENQUEUE_KIND = "chatplatform.jobs.tasks.enqueue_kind"


def interval_task(
    name: str,
    *,
    every: int,
    period: str,
    kwargs: dict[str, Any],
    description: str,
    task: str = ENQUEUE_KIND,
    queue: str | None = None,
) -> migrations.RunPython:
    """The operation that schedules `task(**kwargs)` every `every` `period` under `name`."""

    def create(apps, schema_editor) -> None:
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
        interval = IntervalSchedule.objects.filter(every=every, period=period).order_by("pk").first()
        if interval is None:
            interval = IntervalSchedule.objects.create(every=every, period=period)
        defaults = {
            "task": task,
            "interval": interval,
            "kwargs": json.dumps(kwargs),
            "description": description,
        }
        if queue is not None:
            defaults["queue"] = queue
        PeriodicTask.objects.get_or_create(name=name, defaults=defaults)
        _schedule_changed(apps)

    def delete(apps, schema_editor) -> None:
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()
        _schedule_changed(apps)

    return migrations.RunPython(create, delete)


def _schedule_changed(apps) -> None:
    # Historical models send no signals: tell a running beat that the schedule changed.
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
