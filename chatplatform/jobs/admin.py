from django.contrib import admin, messages
from django.utils.html import format_html

from chatplatform.errors import ApplicationError
from chatplatform.jobs.models import Job
from chatplatform.jobs.services import job_cancel, job_retry


def _progress_bar(job: Job) -> str:
    # job_progress.js updates the bars of unfinished jobs from the jobs API while the page is open.
    return format_html(
        '<span class="job-progress" data-job-id="{}" data-job-status="{}">'
        '<progress max="100" value="{}"></progress> <span class="job-progress-text">{}% {}</span></span>',
        job.pk,
        job.status,
        job.progress,
        job.progress,
        job.progress_message,
    )


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "chatbot",
        "status_shown",
        "progress_bar",
        "priority",
        "attempts",
        "created_at",
    )
    list_filter = ("status", "kind", "origin")
    search_fields = ("=id", "kind", "chatbot", "idempotency_key")
    date_hierarchy = "created_at"
    actions = ["cancel_jobs", "retry_jobs"]
    readonly_fields = [f.name for f in Job._meta.fields] + ["progress_bar"]
    fields = (
        ("kind", "status", "priority"),
        "progress_bar",
        "payload",
        "result",
        ("error_code", "error_message"),
        ("attempts", "max_attempts", "run_at"),
        ("idempotency_key", "chatbot"),
        ("origin", "origin_detail", "created_by"),
        ("created_at", "started_at", "finished_at", "cancel_requested_at"),
        ("worker", "lease_expires_at"),
    )

    class Media:
        js = ("jobs/job_progress.js",)

    @admin.display(description="status", ordering="status")
    def status_shown(self, job: Job) -> str:
        return format_html('<span class="job-status" data-job-id="{}">{}</span>', job.pk, job.status)

    @admin.display(description="progress")
    def progress_bar(self, job: Job) -> str:
        return _progress_bar(job)

    def has_add_permission(self, request) -> bool:
        return False  # jobs are created through the API or the schedule

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Cancel the selected jobs")
    def cancel_jobs(self, request, queryset) -> None:
        self._each(request, queryset, job_cancel, "cancelled (running ones stop at their next step)")

    @admin.action(description="Retry the selected jobs")
    def retry_jobs(self, request, queryset) -> None:
        self._each(request, queryset, job_retry, "queued again")

    def _each(self, request, queryset, service, done: str) -> None:
        count = 0
        for job in queryset:
            try:
                service(job=job)
                count += 1
            except ApplicationError as exc:
                self.message_user(request, f"Job {job.pk}: {exc.message}", messages.WARNING)
        if count:
            self.message_user(request, f"{count} job(s) {done}.", messages.SUCCESS)
