"""Reads of jobs."""

from datetime import datetime

from django.db.models import QuerySet

from chatplatform.jobs.models import Job


def job_list(
    *,
    chatbot: str | None = None,
    status: str | None = None,
    kind: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    ids: list[int] | None = None,
) -> QuerySet[Job]:
    """Jobs, newest first; `chatbot` limits them to one chatbot's (an integration's view)."""
    jobs = Job.objects.all()
    if chatbot is not None:
        jobs = jobs.filter(chatbot=chatbot)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    if created_after:
        jobs = jobs.filter(created_at__gte=created_after)
    if created_before:
        jobs = jobs.filter(created_at__lt=created_before)
    if ids:
        jobs = jobs.filter(id__in=ids)
    return jobs.select_related("created_by")
