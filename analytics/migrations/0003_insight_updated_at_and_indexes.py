"""Indexes for the 30-day dashboard's unique visitors and the drill-down by errors, and the
insight's `updated_at`, which the hourly rollup reads to find the days that changed."""

from django.db import migrations, models
from django.utils import timezone


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_daily_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversationinsight",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, db_index=True, default=timezone.now),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="conversationinsight",
            index=models.Index(fields=["chatbot", "started_at", "visitor"], name="insight_chatbot_visitor"),
        ),
        migrations.AddIndex(
            model_name="processingmetrics",
            index=models.Index(
                condition=models.Q(("status__in", ("failed", "interrupted"))),
                fields=["chatbot", "created_at", "conversation"],
                name="procmetrics_chatbot_errors",
            ),
        ),
    ]
