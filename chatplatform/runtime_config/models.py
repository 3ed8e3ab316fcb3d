from django.conf import settings
from django.db import models
from django.utils import timezone


class Revision(models.Model):
    """A change counter per scope (`runtime_config`, `flags`). Every change updates the row in
    its own transaction, so writers take turns on it: a process that read the row and then the
    values misses no change committed after that read. Each update also draws a new random
    `token`, which readers compare: a change that rolled back can never share it with a later
    one, as it could share a number."""

    scope = models.CharField(max_length=40, primary_key=True)
    number = models.BigIntegerField(default=0)
    token = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"{self.scope} #{self.number}"


class ConfigValue(models.Model):
    """The current value of a runtime config key; a key with no row has its default."""

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField()
    version = models.PositiveIntegerField(help_text="The version this value came from.")
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["key"]
        verbose_name = "runtime config key"

    def __str__(self) -> str:
        return self.key


class ConfigVersion(models.Model):
    """Every value a key has had, numbered from 1 per key; never edited or deleted."""

    key = models.CharField(max_length=100)
    number = models.PositiveIntegerField()
    value = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as written, so that the history still names the author once the account is gone.
    author_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField()
    reverted_from = models.PositiveIntegerField(
        null=True, blank=True, help_text="The version this one restored, when it is a revert."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key", "-number"]
        constraints = [models.UniqueConstraint(fields=["key", "number"], name="config_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.key} v{self.number}"
