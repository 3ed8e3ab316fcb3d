from django.conf import settings
from django.db import models
from django.db.models import Q


class Job(models.Model):
    """One background job: what to do, its state, progress and outcome, and the worker's lease."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SCHEDULED = "scheduled"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Origin(models.TextChoices):
        STAFF = "staff"
        INTEGRATION = "integration"
        SCHEDULE = "schedule"
        SYSTEM = "system"

    kind = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict, blank=True)
    priority = models.PositiveSmallIntegerField(default=5, help_text="0 (lowest) to 9 (highest).")
    run_at = models.DateTimeField(null=True, blank=True, help_text="Not before this time.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True, default="")
    result = models.JSONField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_message = models.CharField(max_length=1000, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=3)
    # NULL, not empty, when there is none: the unique constraint must not take "" as a key.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    # The chatbot (its public chatbot_id) a job belongs to; empty for platform-wide jobs. A string,
    # not a key: chatplatform does not import the apps.
    chatbot = models.CharField(max_length=100, blank=True, default="", db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.SYSTEM)
    origin_detail = models.CharField(
        max_length=100, blank=True, default="", help_text="The API key's or schedule's name."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    # Whoever holds the token runs the job; the lease is renewed while it runs, and a job whose
    # lease has expired is taken back by the sweeper.
    lease_token = models.CharField(max_length=64, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "priority", "created_at"], name="jobs_runnable_idx"),
            models.Index(fields=["status", "lease_expires_at"], name="jobs_lease_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["chatbot", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="jobs_unique_idempotency_key",
            ),
            models.CheckConstraint(condition=Q(priority__lte=9), name="jobs_priority_0_9"),
            models.CheckConstraint(condition=Q(progress__lte=100), name="jobs_progress_0_100"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    WAITING = (Status.PENDING, Status.SCHEDULED)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class BeatLock(models.Model):
    """The lock that the one running beat holds and renews (chatplatform/jobs/beat.py)."""

    name = models.CharField(max_length=50, primary_key=True)
    holder = models.CharField(max_length=200, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or 'free'}"
