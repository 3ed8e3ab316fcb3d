"""Daily rollups (and the admin's dashboards entry); schedules their refresh every hour (a job
of kind `analytics_rollup`), editable in admin."""

import django.db.models.deletion
from django.db import migrations, models

from chatplatform.jobs.schedules import interval_task

TASK_NAME = "Roll up analytics by day"


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("conversations", "0007_knowledgedocument_progress"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="DailyRollup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("flow", models.CharField(blank=True, max_length=16)),
                ("answers", models.PositiveIntegerField(default=0)),
                (
                    "errors",
                    models.PositiveIntegerField(default=0, help_text="Answers failed or interrupted."),
                ),
                ("stopped", models.PositiveIntegerField(default=0)),
                ("not_found", models.PositiveIntegerField(default=0)),
                ("ttft_sum_ms", models.FloatField(default=0)),
                ("ttft_count", models.PositiveIntegerField(default=0)),
                (
                    "ttft_histogram",
                    models.JSONField(blank=True, default=dict, help_text="Bucket index: answers."),
                ),
                ("tokens_per_s_sum", models.FloatField(default=0)),
                ("tokens_per_s_count", models.PositiveIntegerField(default=0)),
                ("output_tokens", models.BigIntegerField(default=0)),
                ("answer_score_sum", models.PositiveIntegerField(default=0)),
                ("answer_score_count", models.PositiveIntegerField(default=0)),
                ("messages", models.PositiveIntegerField(default=0)),
                ("questions", models.PositiveIntegerField(default=0)),
                ("conversations", models.PositiveIntegerField(default=0)),
                ("unique_visitors", models.PositiveIntegerField(default=0, help_text="Of the day alone.")),
                ("score_sum", models.PositiveIntegerField(default=0)),
                ("score_count", models.PositiveIntegerField(default=0)),
                (
                    "score_counts",
                    models.JSONField(blank=True, default=dict, help_text="Score: conversations."),
                ),
                ("resolution_open", models.PositiveIntegerField(default=0)),
                ("resolution_confirmed", models.PositiveIntegerField(default=0)),
                ("resolution_assumed", models.PositiveIntegerField(default=0)),
                ("resolution_unresolved", models.PositiveIntegerField(default=0)),
                ("ratings_up", models.PositiveIntegerField(default=0)),
                ("ratings_down", models.PositiveIntegerField(default=0)),
                (
                    "topics",
                    models.JSONField(
                        blank=True, default=dict, help_text='Topic ("" = not analysed): conversations.'
                    ),
                ),
                ("order_lookups", models.JSONField(blank=True, default=dict, help_text="Outcome: lookups.")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "chatbot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="daily_rollups",
                        to="conversations.chatbotsettings",
                    ),
                ),
            ],
            options={
                "ordering": ["-day", "chatbot", "flow"],
            },
        ),
        migrations.CreateModel(
            name="AnalyticsDashboard",
            fields=[],
            options={
                "verbose_name": "dashboard",
                "verbose_name_plural": "dashboards",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("analytics.dailyrollup",),
        ),
        migrations.AddIndex(
            model_name="dailyrollup",
            index=models.Index(fields=["day"], name="daily_rollup_day"),
        ),
        migrations.AddConstraint(
            model_name="dailyrollup",
            constraint=models.UniqueConstraint(fields=("chatbot", "day", "flow"), name="daily_rollup_unique"),
        ),
        interval_task(
            TASK_NAME,
            every=1,
            period="hours",
            kwargs={"kind": "analytics_rollup", "payload": {}},
            queue="maintenance",
            description="Rebuilds the analytics daily rollups of the days whose rows changed "
            "since the last run (yesterday and today always).",
        ),
    ]
