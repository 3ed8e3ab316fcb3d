from django import forms
from django.contrib import admin
from django.db.models import Count

from chatplatform.flags.models import Flag, FlagOverride, SubjectKind


class FlagForm(forms.ModelForm):
    subject_kinds = forms.MultipleChoiceField(
        choices=SubjectKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The kinds of subject it applies to; none ticked: every kind.",
    )

    class Meta:
        model = Flag
        fields = ["key", "description", "enabled", "percentage", "subject_kinds"]


class FlagOverrideInline(admin.TabularInline):
    model = FlagOverride
    extra = 0
    fields = ["subject_kind", "subject_id", "enabled", "note", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    form = FlagForm
    list_display = ["key", "enabled", "percentage", "kinds", "override_count", "updated_at"]
    list_editable = ["enabled", "percentage"]
    search_fields = ["key", "description", "overrides__subject_id"]
    inlines = [FlagOverrideInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_overrides=Count("overrides"))

    @admin.display(description="applies to")
    def kinds(self, flag: Flag) -> str:
        return ", ".join(flag.subject_kinds) or "every kind"

    @admin.display(description="overrides", ordering="_overrides")
    def override_count(self, flag: Flag) -> int:
        return flag._overrides
