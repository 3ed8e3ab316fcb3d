"""Analytics records (performance per answer, insight per conversation, ratings, topics); seeds
each chatbot's topics from its `topics` list and schedules the refresh of quiet conversations
(resolution, topic and score) every five minutes, editable in admin."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

from chatplatform.jobs.schedules import interval_task

REFRESH_TASK_NAME = "Refresh quiet conversations' insights"


def topics_seed(apps, schema_editor):
    ChatbotSettings = apps.get_model("conversations", "ChatbotSettings")
    ChatbotTopic = apps.get_model("analytics", "ChatbotTopic")
    for chatbot in ChatbotSettings.objects.all():
        names = [str(name).strip()[:100] for name in chatbot.topics or [] if str(name).strip()]
        ChatbotTopic.objects.bulk_create(
            [
                ChatbotTopic(chatbot=chatbot, name=name, position=i)
                for i, name in enumerate(dict.fromkeys(names))
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("conversations", "0007_knowledgedocument_progress"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="AnswerRating",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value", models.CharField(choices=[("up", "Up"), ("down", "Down")], max_length=4)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "answer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="rating",
                        to="conversations.message",
                    ),
                ),
                (
                    "chatbot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answer_ratings",
                        to="conversations.chatbotsettings",
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="answer_ratings",
                        to="conversations.conversation",
                    ),
                ),
            ],
            options={
                "ordering": ["-updated_at"],
            },
        ),
        migrations.CreateModel(
            name="ChatbotTopic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100)),
                (
                    "description",
                    models.TextField(
                        blank=True, help_text="Words that describe the topic; used to classify."
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(default=0)),
                (
                    "chatbot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="analytics_topics",
                        to="conversations.chatbotsettings",
                    ),
                ),
            ],
            options={
                "ordering": ["chatbot", "position", "name"],
                "constraints": [
                    models.UniqueConstraint(fields=("chatbot", "name"), name="chatbot_topic_unique_name")
                ],
            },
        ),
        migrations.CreateModel(
            name="ConversationInsight",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("started_at", models.DateTimeField()),
                ("last_message_at", models.DateTimeField()),
                ("visitor", models.CharField(blank=True, max_length=64)),
                ("questions", models.PositiveIntegerField(default=0)),
                ("answers", models.PositiveIntegerField(default=0)),
                ("topic", models.CharField(blank=True, max_length=100)),
                (
                    "score",
                    models.PositiveSmallIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(10),
                        ],
                    ),
                ),
                ("score_reason", models.CharField(blank=True, max_length=300)),
                ("judged_by", models.CharField(blank=True, max_length=100)),
                ("analysed_at", models.DateTimeField(blank=True, null=True)),
                ("analysis_error", models.CharField(blank=True, max_length=300)),
                (
                    "resolution",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("confirmed", "Confirmed"),
                            ("assumed", "Assumed"),
                            ("unresolved", "Unresolved"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("resolved_at", models.DateTimeField(blank=True, null=True)),
                ("stopped_answers", models.PositiveIntegerField(default=0)),
                ("not_found_answers", models.PositiveIntegerField(default=0)),
                ("failed_order_lookups", models.PositiveIntegerField(default=0)),
                ("ratings_up", models.PositiveIntegerField(default=0)),
                ("ratings_down", models.PositiveIntegerField(default=0)),
                (
                    "chatbot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="conversation_insights",
                        to="conversations.chatbotsettings",
                    ),
                ),
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="insight",
                        to="conversations.conversation",
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at"],
                "indexes": [
                    models.Index(fields=["chatbot", "started_at"], name="insight_chatbot_started"),
                    models.Index(fields=["chatbot", "topic"], name="insight_chatbot_topic"),
                    models.Index(fields=["chatbot", "resolution"], name="insight_chatbot_resolution"),
                ],
            },
        ),
        migrations.CreateModel(
            name="ProcessingMetrics",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("flow", models.CharField(blank=True, max_length=16)),
                ("provider", models.CharField(blank=True, max_length=32)),
                ("model", models.CharField(blank=True, max_length=100)),
                ("route_ms", models.FloatField(blank=True, null=True)),
                ("retrieve_ms", models.FloatField(blank=True, null=True)),
                ("order_lookup_ms", models.FloatField(blank=True, null=True)),
                ("image_ms", models.FloatField(blank=True, null=True)),
                ("prompt_ms", models.FloatField(blank=True, null=True)),
                ("provider_ttft_ms", models.FloatField(blank=True, null=True)),
                ("stream_ms", models.FloatField(blank=True, null=True)),
                (
                    "ttft_ms",
                    models.FloatField(
                        blank=True, help_text="Server side: question to first token.", null=True
                    ),
                ),
                ("total_ms", models.FloatField(blank=True, null=True)),
                ("output_tokens", models.PositiveIntegerField(blank=True, null=True)),
                (
                    "tokens_per_s",
                    models.FloatField(blank=True, help_text="After the first token.", null=True),
                ),
                ("status", models.CharField(max_length=16)),
                ("error_code", models.CharField(blank=True, max_length=64)),
                (
                    "not_found",
                    models.BooleanField(default=False, help_text='The answer was a "not found" reply.'),
                ),
                ("created_at", models.DateTimeField(help_text="When the answer was made.")),
                (
                    "answer",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="processing_metrics",
                        to="conversations.message",
                    ),
                ),
                (
                    "chatbot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="processing_metrics",
                        to="conversations.chatbotsettings",
                    ),
                ),
                (
                    "conversation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="processing_metrics",
                        to="conversations.conversation",
                    ),
                ),
            ],
            options={
                "verbose_name": "processing metrics",
                "verbose_name_plural": "processing metrics",
                "db_table": "conversation_processing_metrics",
                "ordering": ["-created_at"],
                "indexes": [
                    models.Index(fields=["chatbot", "created_at"], name="procmetrics_chatbot_created")
                ],
            },
        ),
        migrations.RunPython(topics_seed, migrations.RunPython.noop),
        interval_task(
            REFRESH_TASK_NAME,
            every=5,
            period="minutes",
            kwargs={"kind": "conversation_insights_refresh"},
            queue="maintenance",
            description="Settles the resolution of conversations that went quiet and analyses "
            "(topic and score) those quiet long enough.",
        ),
    ]
