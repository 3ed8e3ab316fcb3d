"""What the tutor generated for a study session: analyses, lessons and quizzes.

Each generation is a new row (the API serves the latest), so that attempts and statistics keep
pointing at the quiz the learner really took. Links to chunks are `SET_NULL`: deleting a document
leaves the content, with its quote, in place.
"""

from django.db import models

from tutor.content.drafts import DIFFICULTIES, QUESTION_TYPES


class Analysis(models.Model):
    session = models.ForeignKey("tutor.StudySession", on_delete=models.CASCADE, related_name="analyses")
    summary = models.TextField()
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "-created_at"])]
        verbose_name_plural = "analyses"

    def __str__(self) -> str:
        return f"Analysis {self.pk} of session {self.session_id}"


class Concept(models.Model):
    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="concepts")
    position = models.PositiveSmallIntegerField()
    term = models.CharField(max_length=200)
    definition = models.TextField()
    chunk = models.ForeignKey(
        "tutor.Chunk", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quote = models.TextField()
    aliases = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["analysis_id", "position"]

    def __str__(self) -> str:
        return self.term


class Lesson(models.Model):
    session = models.ForeignKey("tutor.StudySession", on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    # The concepts the learner had missed that this lesson leans on.
    focus = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "-created_at"])]

    def __str__(self) -> str:
        return self.title


class LessonSection(models.Model):
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    objectives = models.JSONField(default=list)
    explanation = models.TextField()
    examples = models.JSONField(default=list, blank=True)
    chunks = models.ManyToManyField("tutor.Chunk", blank=True, related_name="+")

    class Meta:
        ordering = ["lesson_id", "position"]

    def __str__(self) -> str:
        return self.title


class Quiz(models.Model):
    session = models.ForeignKey("tutor.StudySession", on_delete=models.CASCADE, related_name="quizzes")
    requested = models.PositiveSmallIntegerField()
    delivered = models.PositiveSmallIntegerField()
    difficulty = models.CharField(max_length=8, choices=[(d, d) for d in DIFFICULTIES])
    question_types = models.JSONField(default=list)
    # "8 of 10 questions passed validation." when fewer than requested; blank otherwise.
    message = models.CharField(max_length=300, blank=True, default="")
    rejected = models.JSONField(default=dict, blank=True)  # reason -> count
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["session", "-created_at"])]
        verbose_name_plural = "quizzes"

    def __str__(self) -> str:
        return f"Quiz {self.pk} ({self.delivered} of {self.requested})"


class Question(models.Model):
    class Type(models.TextChoices):
        MULTIPLE_CHOICE = QUESTION_TYPES[0], "Multiple choice"
        TRUE_FALSE = QUESTION_TYPES[1], "True/false"
        SHORT_ANSWER = QUESTION_TYPES[2], "Short answer"
        FILL_IN_BLANK = QUESTION_TYPES[3], "Fill in the blank"

    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    prompt = models.TextField()
    options = models.JSONField(default=list, blank=True)  # multiple choice only
    answer = models.CharField(max_length=500)  # "true"/"false" for true_false
    accepted = models.JSONField(default=list, blank=True)  # other accepted answers (aliases)
    explanation = models.TextField(blank=True, default="")
    chunk = models.ForeignKey(
        "tutor.Chunk", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quote = models.TextField()
    # The words of the quote that prove the answer (see tutor.content.drafts.QuestionDraft).
    evidence = models.TextField(blank=True, default="")
    concept = models.CharField(max_length=200, blank=True, default="")
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["quiz_id", "position"]
        indexes = [models.Index(fields=["flagged"])]

    def __str__(self) -> str:
        return self.prompt[:80]
