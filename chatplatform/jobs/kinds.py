"""The platform's own job kinds, and the retention cleaner of finished jobs."""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from chatplatform import retention
from chatplatform.jobs.models import Job
from chatplatform.jobs.registry import JobContext, job_kind


@job_kind(
    "retention_cleanup",
    max_attempts=3,
    description="Deletes records older than RETENTION_DAYS with every registered cleaner.",
)
def run_retention_cleanup(ctx: JobContext, payload: dict) -> dict:
    older_than = timezone.now() - timedelta(days=settings.RETENTION_DAYS)
    deleted = retention.retention_cleanup(
        older_than=older_than, progress=lambda percent, name: ctx.progress(percent, name)
    )
    return {"older_than": older_than.isoformat(), "deleted": deleted}


def finished_jobs_delete(older_than: datetime) -> int:
    deleted, _ = Job.objects.filter(status__in=Job.FINISHED, finished_at__lt=older_than).delete()
    return deleted


retention.register_cleaner("finished jobs", finished_jobs_delete)
