"""The tutor's core records: a learner's study sessions, their documents and passages, and a log
of everything the learner does.

A learner is any active `auth.User`. Every row here hangs off one learner (directly or through
its session), which is what the API filters on so that one learner never sees another's.
"""

from django.conf import settings
from django.db import models


class StudySession(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_sessions"
    )
    title = models.CharField(max_length=200)
    goal = models.TextField(blank=True, default="")
    # Archived sessions stay readable but leave the default list.
    archived_at = models.DateTimeField(null=True, blank=True)
    # Shared notes between the tutor's parts, e.g. "missed_concepts" from the latest summary.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["learner", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class Document(models.Model):
    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "DOCX"
        TXT = "txt", "Text"
        MARKDOWN = "markdown", "Markdown"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(StudySession, on_delete=models.CASCADE, related_name="documents")
    filename = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    size_bytes = models.PositiveBigIntegerField()
    pages = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=64)  # sha256 hex of the uploaded bytes
    language = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.CharField(max_length=500, blank=True, default="")
    # The uploaded bytes until the worker has extracted them (cleared afterwards).
    file = models.FileField(upload_to="tutor/documents/%Y/%m/", blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "checksum"], name="tutor_document_unique_checksum")
        ]
        indexes = [models.Index(fields=["created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.filename


class Chunk(models.Model):
    class EmbeddingStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the document so that a session's passages are one indexed query.
    session = models.ForeignKey(StudySession, on_delete=models.CASCADE, related_name="chunks")
    position = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    embedding_status = models.CharField(
        max_length=12, choices=EmbeddingStatus.choices, default=EmbeddingStatus.PENDING
    )
    embedding_attempts = models.PositiveSmallIntegerField(default=0)
    embedding_error = models.CharField(max_length=500, blank=True, default="")
    # A pending chunk is not claimed before this time (backoff after a failure).
    embedding_next_at = models.DateTimeField(null=True, blank=True)
    # When a worker claimed it; a claim older than the lease belongs to a dead worker.
    embedding_claimed_at = models.DateTimeField(null=True, blank=True)
    # float32 little-endian vector, and the model that made it (vectors of two models never mix).
    embedding = models.BinaryField(null=True, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["document", "position"], name="tutor_chunk_unique_position")
        ]
        indexes = [
            models.Index(fields=["embedding_status", "embedding_next_at"]),
            models.Index(fields=["session", "embedding_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"


class InteractionLog(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tutor_interactions"
    )
    session = models.ForeignKey(
        StudySession,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="interactions",
    )
    kind = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["learner", "kind", "created_at"]),
            models.Index(fields=["session", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by {self.learner_id}"
