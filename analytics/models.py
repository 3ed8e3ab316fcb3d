"""Analytics records: one performance row per answer, one insight row per conversation, the
visitors' ratings of answers, and each chatbot's topics.

They are written off the stream (after an answer's final write) and read by the dashboards;
the conversation tables never depend on them.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

# Answer statuses counted as errors (dashboards, drill-downs and the partial index below).
ERROR_STATUSES = ("failed", "interrupted")


class ProcessingMetrics(models.Model):
    """How one answer was made: every phase's duration, its tokens, speed and outcome.

    Durations are milliseconds, null when the phase did not run for this answer.
    """

    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="processing_metrics"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="processing_metrics"
    )
    answer = models.OneToOneField(
        "conversations.Message", on_delete=models.CASCADE, related_name="processing_metrics"
    )
    flow = models.CharField(max_length=16, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=100, blank=True)
    route_ms = models.FloatField(null=True, blank=True)
    retrieve_ms = models.FloatField(null=True, blank=True)
    order_lookup_ms = models.FloatField(null=True, blank=True)
    image_ms = models.FloatField(null=True, blank=True)
    prompt_ms = models.FloatField(null=True, blank=True)
    provider_ttft_ms = models.FloatField(null=True, blank=True)
    stream_ms = models.FloatField(null=True, blank=True)
    ttft_ms = models.FloatField(null=True, blank=True, help_text="Server side: question to first token.")
    total_ms = models.FloatField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    tokens_per_s = models.FloatField(null=True, blank=True, help_text="After the first token.")
    status = models.CharField(max_length=16)
    error_code = models.CharField(max_length=64, blank=True)
    not_found = models.BooleanField(default=False, help_text='The answer was a "not found" reply.')
    created_at = models.DateTimeField(help_text="When the answer was made.")

    class Meta:
        db_table = "conversation_processing_metrics"
        verbose_name = "processing metrics"
        verbose_name_plural = "processing metrics"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["chatbot", "created_at"], name="procmetrics_chatbot_created"),
            # The drill-down by errors reads only the few failed answers of a chatbot's window; its
            # query must keep this condition as is for PostgreSQL to use the index.
            models.Index(
                fields=["chatbot", "created_at", "conversation"],
                name="procmetrics_chatbot_errors",
                condition=models.Q(status__in=ERROR_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} {self.status}"


class ConversationInsight(models.Model):
    """One conversation as analytics sees it: counters, resolution, topic and score."""

    class Resolution(models.TextChoices):
        OPEN = "open"
        CONFIRMED = "confirmed"
        ASSUMED = "assumed"
        UNRESOLVED = "unresolved"

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="insight"
    )
    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="conversation_insights"
    )
    started_at = models.DateTimeField()
    last_message_at = models.DateTimeField()
    # An opaque id (a hash), never the visitor's personal data.
    visitor = models.CharField(max_length=64, blank=True)
    questions = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    topic = models.CharField(max_length=100, blank=True)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    score_reason = models.CharField(max_length=300, blank=True)
    judged_by = models.CharField(max_length=100, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)
    analysis_error = models.CharField(max_length=300, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, default=Resolution.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    stopped_answers = models.PositiveIntegerField(default=0)
    not_found_answers = models.PositiveIntegerField(default=0)
    failed_order_lookups = models.PositiveIntegerField(default=0)
    ratings_up = models.PositiveIntegerField(default=0)
    ratings_down = models.PositiveIntegerField(default=0)
    # Moves with every write, so that the hourly rollup rebuilds exactly the days whose
    # conversations changed (analytics/rollups.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["chatbot", "started_at"], name="insight_chatbot_started"),
            # Unique visitors over a window: counted from the index alone.
            models.Index(fields=["chatbot", "started_at", "visitor"], name="insight_chatbot_visitor"),
            models.Index(fields=["chatbot", "topic"], name="insight_chatbot_topic"),
            models.Index(fields=["chatbot", "resolution"], name="insight_chatbot_resolution"),
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} {self.resolution}"


class AnswerRating(models.Model):
    """A visitor's thumbs up or down on one answer; rating again replaces the value."""

    class Value(models.TextChoices):
        UP = "up"
        DOWN = "down"

    answer = models.OneToOneField("conversations.Message", on_delete=models.CASCADE, related_name="rating")
    conversation = models.ForeignKey(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="answer_ratings"
    )
    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="answer_ratings"
    )
    value = models.CharField(max_length=4, choices=Value.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return f"{self.answer_id} {self.value}"


class ChatbotTopic(models.Model):
    """One of the topics a chatbot's conversations are classified into."""

    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="analytics_topics"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, help_text="Words that describe the topic; used to classify.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["chatbot", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["chatbot", "name"], name="chatbot_topic_unique_name")]

    def __str__(self) -> str:
        return self.name


class DailyRollup(models.Model):
    """One chatbot's day, per flow (`flow` "" = all flows), as counts and sums the dashboards add up.

    Recomputed whole from the raw rows (analytics/rollups.py), so a rerun changes nothing. Answer
    figures count answers made that day; conversation figures (topic, score, resolution, visitors)
    count the conversations that started that day, and only the all-flows row has them. TTFT
    percentiles come from `ttft_histogram` (1 % wide buckets), which add up across days and flows.
    """

    ALL_FLOWS = ""

    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="daily_rollups"
    )
    day = models.DateField()
    flow = models.CharField(max_length=16, blank=True)
    answers = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Answers failed or interrupted.")
    stopped = models.PositiveIntegerField(default=0)
    not_found = models.PositiveIntegerField(default=0)
    ttft_sum_ms = models.FloatField(default=0)
    ttft_count = models.PositiveIntegerField(default=0)
    ttft_histogram = models.JSONField(default=dict, blank=True, help_text="Bucket index: answers.")
    tokens_per_s_sum = models.FloatField(default=0)
    tokens_per_s_count = models.PositiveIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    # The flow's answers weighted by their conversation's score (the per-flow table's average).
    answer_score_sum = models.PositiveIntegerField(default=0)
    answer_score_count = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    questions = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)
    unique_visitors = models.PositiveIntegerField(default=0, help_text="Of the day alone.")
    score_sum = models.PositiveIntegerField(default=0)
    score_count = models.PositiveIntegerField(default=0)
    score_counts = models.JSONField(default=dict, blank=True, help_text="Score: conversations.")
    resolution_open = models.PositiveIntegerField(default=0)
    resolution_confirmed = models.PositiveIntegerField(default=0)
    resolution_assumed = models.PositiveIntegerField(default=0)
    resolution_unresolved = models.PositiveIntegerField(default=0)
    ratings_up = models.PositiveIntegerField(default=0)
    ratings_down = models.PositiveIntegerField(default=0)
    topics = models.JSONField(default=dict, blank=True, help_text='Topic ("" = not analysed): conversations.')
    order_lookups = models.JSONField(default=dict, blank=True, help_text="Outcome: lookups.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "chatbot", "flow"]
        constraints = [
            models.UniqueConstraint(fields=["chatbot", "day", "flow"], name="daily_rollup_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="daily_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.flow or 'all flows'}"


class AnalyticsDashboard(DailyRollup):
    """Not stored: the admin index's "Dashboards" entry, which opens a chatbot's charts."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboards"
