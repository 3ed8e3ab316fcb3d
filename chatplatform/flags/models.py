from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class SubjectKind(models.TextChoices):
    CHATBOT = "chatbot", "Chatbot (chatbot_id)"
    LEARNER = "learner", "Learner (user id)"
    VISITOR = "visitor", "Visitor (conversation id)"


class Flag(models.Model):
    """A feature switched on for a stable share of subjects: a subject is in when its bucket
    (a hash of the flag's key, the subject's kind and id) is below the percentage."""

    key = models.SlugField(max_length=100, unique=True, help_text="The name code asks for, e.g. llm_router.")
    description = models.TextField(blank=True)
    enabled = models.BooleanField(default=False, help_text="Off: only per-subject overrides turn it on.")
    percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        help_text="Share of subjects it is on for, 0-100. Raising it only adds subjects.",
    )
    subject_kinds = models.JSONField(
        default=list, blank=True, help_text="The kinds of subject it applies to; empty: every kind."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        unknown = set(self.subject_kinds or []) - set(SubjectKind.values)
        if not isinstance(self.subject_kinds, list) or unknown:
            raise ValidationError({"subject_kinds": f"Use a list of: {', '.join(SubjectKind.values)}."})


class FlagOverride(models.Model):
    """One subject always in (or always out), whatever the percentage says."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="overrides")
    subject_kind = models.CharField(max_length=20, choices=SubjectKind.choices)
    subject_id = models.CharField(max_length=200)
    enabled = models.BooleanField(help_text="On or off for this subject.")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["flag", "subject_kind", "subject_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flag", "subject_kind", "subject_id"], name="flag_override_one_per_subject"
            )
        ]

    def __str__(self) -> str:
        return f"{self.flag_id}: {self.subject_kind} {self.subject_id} {'on' if self.enabled else 'off'}"

    def clean(self) -> None:
        flag = Flag.objects.filter(pk=self.flag_id).first() if self.flag_id else None
        if flag and flag.subject_kinds and self.subject_kind not in flag.subject_kinds:
            raise ValidationError(
                {"subject_kind": f"{flag.key} applies to {', '.join(flag.subject_kinds)} only."}
            )
