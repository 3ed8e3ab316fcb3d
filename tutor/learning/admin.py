"""Staff views of learning events; flagged questions are found with the "flagged" filter of
item statistics. Rows are written by the API and jobs only, so they are read-only here."""

from django.contrib import admin

from tutor.learning.models import AttemptAnswer, EngagementScore, ItemStatistic, LearnerSummary, QuizAttempt


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class AttemptAnswerInline(admin.TabularInline):
    model = AttemptAnswer
    fields = ("question", "given", "correct")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(QuizAttempt)
class QuizAttemptAdmin(_ReadOnly):
    list_display = (
        "id",
        "session",
        "learner",
        "quiz",
        "correct",
        "total",
        "score",
        "time_taken_s",
        "created_at",
    )
    list_select_related = ("session", "learner")
    date_hierarchy = "created_at"
    search_fields = ("learner__username", "session__title")
    inlines = [AttemptAnswerInline]


@admin.register(LearnerSummary)
class LearnerSummaryAdmin(_ReadOnly):
    list_display = ("id", "session", "learner", "coverage", "created_at")
    list_select_related = ("session", "learner")
    date_hierarchy = "created_at"
    search_fields = ("learner__username", "session__title")


@admin.register(ItemStatistic)
class ItemStatisticAdmin(_ReadOnly):
    list_display = (
        "question",
        "attempts",
        "p_correct",
        "discrimination",
        "flagged",
        "flag_reason",
        "updated_at",
    )
    list_filter = ("flagged",)
    list_select_related = ("question",)
    search_fields = ("question__prompt",)
    readonly_fields = ("distractor_counts",)


@admin.register(EngagementScore)
class EngagementScoreAdmin(_ReadOnly):
    list_display = ("session", "score", "weights_version", "computed_at")
    list_select_related = ("session",)
    ordering = ("-computed_at",)
