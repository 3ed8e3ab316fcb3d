"""Learning events (quiz attempts, summaries) and what is computed from them (item statistics,
engagement). Every row hangs off a study session of one learner."""

from django.conf import settings
from django.db import models


class QuizAttempt(models.Model):
    """One go at a quiz, scored by the server; a question left out counts as wrong."""

    quiz = models.ForeignKey("tutor_content.Quiz", on_delete=models.CASCADE, related_name="attempts")
    # Denormalised from the quiz, so that a session's attempts are one indexed query.
    session = models.ForeignKey("tutor.StudySession", on_delete=models.CASCADE, related_name="quiz_attempts")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="Correct answers over the quiz's questions, 0-1.")
    correct = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    time_taken_s = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return f"attempt {self.pk} of quiz {self.quiz_id}: {self.correct}/{self.total}"


class AttemptAnswer(models.Model):
    attempt = models.ForeignKey(QuizAttempt, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey("tutor_content.Question", on_delete=models.CASCADE, related_name="+")
    given = models.TextField(blank=True, default="")
    correct = models.BooleanField()

    class Meta:
        ordering = ["attempt_id", "question__position", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"], name="tutor_attempt_answer_unique_question"
            )
        ]
        indexes = [models.Index(fields=["question"])]

    def __str__(self) -> str:
        return f"answer to {self.question_id} in attempt {self.attempt_id}"


class LearnerSummary(models.Model):
    """A summary the learner wrote, with the key concepts of the latest analysis it covered."""

    session = models.ForeignKey("tutor.StudySession", on_delete=models.CASCADE, related_name="summaries")
    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    analysis = models.ForeignKey(
        "tutor_content.Analysis", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    covered = models.JSONField(default=list, help_text="Terms of the key concepts covered.")
    missed = models.JSONField(default=list, help_text="Terms of the key concepts missed.")
    # Per concept: how it was matched (term or definition) and the word overlaps.
    matches = models.JSONField(default=list, blank=True)
    coverage = models.FloatField(null=True, blank=True, help_text="Covered over all key concepts, 0-1.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "created_at"])]
        verbose_name_plural = "learner summaries"

    def __str__(self) -> str:
        return f"summary {self.pk} of session {self.session_id}"


class ItemStatistic(models.Model):
    """Item analysis of one question from its attempts; a flagged question is left out of new
    quizzes (it also sets `Question.flagged`)."""

    question = models.OneToOneField(
        "tutor_content.Question", on_delete=models.CASCADE, related_name="statistic"
    )
    attempts = models.PositiveIntegerField(default=0)
    p_correct = models.FloatField(null=True, blank=True)
    discrimination = models.FloatField(
        null=True, blank=True, help_text="Point-biserial against the attempt score; empty when undefined."
    )
    distractor_counts = models.JSONField(default=dict, blank=True)
    flagged = models.BooleanField(default=False, db_index=True)
    flag_codes = models.JSONField(default=list, blank=True)
    flag_reason = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"statistics of question {self.question_id}"


class EngagementScore(models.Model):
    """The session's engagement, 0-100, with each signal's whole points (they sum to `score`)."""

    session = models.OneToOneField("tutor.StudySession", on_delete=models.CASCADE, related_name="engagement")
    score = models.PositiveSmallIntegerField()
    contributions = models.JSONField(default=list)
    # The version of the runtime config key `tutor_engagement_weights` used (0: its default).
    weights_version = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"engagement {self.score} of session {self.session_id}"
