"""Staff read generated content in admin; flagged questions can be found and cleared here."""

from django.contrib import admin

from tutor.content.models import Analysis, Concept, Lesson, LessonSection, Question, Quiz


class ConceptInline(admin.TabularInline):
    model = Concept
    fields = ("position", "term", "definition", "quote", "chunk")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Analysis)
class AnalysisAdmin(admin.ModelAdmin):
    list_display = ("id", "session", "provider", "model", "created_at")
    list_filter = ("provider",)
    search_fields = ("session__title", "session__learner__username")
    readonly_fields = ("session", "summary", "provider", "model", "created_at")
    inlines = [ConceptInline]


class SectionInline(admin.StackedInline):
    model = LessonSection
    fields = ("position", "title", "objectives", "explanation", "examples", "chunks")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "session", "provider", "created_at")
    list_filter = ("provider",)
    search_fields = ("title", "session__title", "session__learner__username")
    readonly_fields = ("session", "title", "focus", "provider", "model", "created_at")
    inlines = [SectionInline]


class QuestionInline(admin.TabularInline):
    model = Question
    fields = ("position", "type", "prompt", "answer", "flagged", "flag_reason")
    readonly_fields = ("position", "type", "prompt", "answer")
    extra = 0
    can_delete = False


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("id", "session", "delivered", "requested", "difficulty", "provider", "created_at")
    list_filter = ("difficulty", "provider")
    search_fields = ("session__title", "session__learner__username")
    readonly_fields = (
        "session",
        "requested",
        "delivered",
        "difficulty",
        "question_types",
        "message",
        "rejected",
        "provider",
        "model",
        "created_at",
    )
    inlines = [QuestionInline]


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("id", "quiz", "position", "type", "prompt", "flagged", "flag_reason")
    list_filter = ("flagged", "type")
    search_fields = ("prompt", "answer", "concept")
    readonly_fields = (
        "quiz",
        "position",
        "type",
        "prompt",
        "options",
        "answer",
        "accepted",
        "explanation",
        "chunk",
        "quote",
        "evidence",
        "concept",
    )
