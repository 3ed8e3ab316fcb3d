"""The chat engine's models: conversations, their messages, each answer's streaming session and
the context chunks it used, and the heartbeats of the web processes that stream answers.

They belong to the `conversations` app (its label and tables); `conversations.models` imports
them, so that Django registers them there. Foreign keys to the app's other models are by name.
"""

import uuid

from django.db import models


class Conversation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(
        "conversations.ChatbotSettings", on_delete=models.CASCADE, related_name="conversations"
    )
    # Only a hash of the visitor's resume token is stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    origin = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Indexed: retention finds old conversations by their last activity.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.chatbot.chatbot_id} {self.created_at:%Y-%m-%d %H:%M}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    class Status(models.TextChoices):
        COMPLETED = "completed"
        STREAMING = "streaming"
        STOPPED = "stopped"
        FAILED = "failed"
        # Its web process went away mid-answer; what was streamed is kept (answer_sweeper).
        INTERRUPTED = "interrupted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    reply_to = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="reply"
    )
    client_id = models.CharField(max_length=64, blank=True)
    image = models.ForeignKey(
        "conversations.ImageUpload", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    flow = models.CharField(max_length=16, blank=True)
    route_reason = models.CharField(max_length=300, blank=True)
    sources = models.JSONField(default=list, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                condition=~models.Q(client_id=""),
                name="message_client_id_unique_per_conversation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class StreamingSession(models.Model):
    """How one answer's stream went: its status and size, for operations and analytics."""

    class Status(models.TextChoices):
        STREAMING = "streaming"
        COMPLETED = "completed"
        STOPPED = "stopped"
        FAILED = "failed"
        INTERRUPTED = "interrupted"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="streaming_session")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.STREAMING)
    # The web process generating it (`web_process.PROCESS_ID`): while the answer streams, the
    # sweeper tells a live owner from a dead one by its heartbeat.
    owner = models.CharField(max_length=100, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    event_count = models.PositiveIntegerField(default=0)
    ttft_ms = models.FloatField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.message_id} {self.status}"


class WebProcessHeartbeat(models.Model):
    """A web process that is generating answers, and when it last said it was alive."""

    process_id = models.CharField(max_length=100, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.process_id} {self.beat_at:%H:%M:%S}"


class ContextChunk(models.Model):
    """A knowledge-base chunk that an answer was grounded in."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="context_chunks")
    rank = models.PositiveSmallIntegerField()
    vector_id = models.CharField(max_length=128)
    index_name = models.CharField(max_length=45, blank=True)
    source = models.CharField(max_length=255, blank=True)
    score = models.FloatField()
    text = models.TextField()

    class Meta:
        ordering = ["message", "rank"]
        constraints = [models.UniqueConstraint(fields=["message", "rank"], name="context_chunk_rank_unique")]

    def __str__(self) -> str:
        return f"{self.source} ({self.score:.2f})"
