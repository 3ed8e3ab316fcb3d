"""Schedules the tutor's engagement scores every 15 minutes (a job of kind `tutor_engagement`)."""

from django.db import migrations

from chatplatform.jobs.schedules import interval_task

TASK_NAME = "Tutor engagement scores"


class Migration(migrations.Migration):
    dependencies = [
        ("tutor_learning", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        interval_task(
            TASK_NAME,
            every=15,
            period="minutes",
            kwargs={"kind": "tutor_engagement"},
            queue="maintenance",
            description="Recomputes the engagement scores of study sessions active in the last 30 days "
            "whose score is older than 15 minutes or than their latest activity.",
        )
    ]
