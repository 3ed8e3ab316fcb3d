from django.db import models


class HealthSnapshot(models.Model):
    """What the platform looked like at one moment: taken every 5 minutes by the `health_check`
    job, read in admin."""

    class Status(models.TextChoices):
        OK = "ok"
        DEGRADED = "degraded"

    taken_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    # What is wrong, in words ("broker down", "no worker replied"); empty when ok.
    problems = models.JSONField(default=list, blank=True)
    # {"database": {"status": "up", "latency_ms": 1.2}, "cache": ..., "broker": ...}
    checks = models.JSONField(default=dict)
    # Workers that answered a ping; null when the broker could not say.
    workers = models.PositiveIntegerField(null=True, blank=True)
    worker_names = models.JSONField(default=list, blank=True)
    # Messages waiting per queue; null for a queue whose depth could not be read.
    queue_depth = models.JSONField(default=dict)
    last_beat_run_at = models.DateTimeField(null=True, blank=True)
    # Answers that failed or were interrupted, of all answers in the window (null: no answers).
    error_rate = models.FloatField(null=True, blank=True)
    active_chats = models.PositiveIntegerField(null=True, blank=True)
    # Every registered fact (chatplatform.monitoring.facts), by name.
    facts = models.JSONField(default=dict, blank=True)
    duration_ms = models.FloatField(default=0)

    class Meta:
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.taken_at:%Y-%m-%d %H:%M} {self.status}"


class CurrentHealth(HealthSnapshot):
    """Not stored: the admin index's "Current state" entry, which runs the checks live."""

    class Meta:
        proxy = True
        verbose_name = "current state"
        verbose_name_plural = "current state"
