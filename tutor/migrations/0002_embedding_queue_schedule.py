"""The embedding queue's beat row: a `tutor_embedding_queue` job every 30 seconds (editable in
admin). Uploads also wake the queue at once; the beat picks up retries and dead workers' claims."""

from django.db import migrations

from chatplatform.jobs.schedules import interval_task

NAME = "Tutor embedding queue"


class Migration(migrations.Migration):
    dependencies = [
        ("tutor", "0001_initial"),
        ("jobs", "0002_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            NAME,
            every=30,
            period="seconds",
            kwargs={"kind": "tutor_embedding_queue", "payload": {}},
            description="Creates a tutor_embedding_queue job: embeds pending tutor passages in batches.",
        )
    ]
