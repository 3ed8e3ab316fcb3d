"""Celery tasks of jobs: the wake-up, the schedule's job creation, and the lease sweeper.

Each takes no ids of its own and calls one service. `jobs_run` goes to the `jobs` queue (the
sender names JOBS_QUEUE); the other two run on `maintenance` from beat.
"""

import logging
import math
import time

from celery import shared_task

from chatplatform.errors import ApplicationError
from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import jobs_run_available
from chatplatform.jobs.services import job_create
from chatplatform.jobs.services import jobs_sweep as jobs_sweep_service
from chatplatform.jobs.wakeups import JOBS_RUN_TASK

logger = logging.getLogger(__name__)

_PERIOD_SECONDS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 1e-6}


@shared_task(name=JOBS_RUN_TASK, acks_late=True, ignore_result=True)
def jobs_run() -> int:
    """Wake up: run the best runnable jobs while there are any (within JOBS_DRAIN_SECONDS)."""
    return jobs_run_available()


@shared_task(name="chatplatform.jobs.tasks.jobs_sweep", acks_late=True, ignore_result=True)
def jobs_sweep() -> dict:
    counts = jobs_sweep_service()
    if counts["requeued"] or counts["failed"] or counts["cancelled"]:
        logger.info("Job sweeper: %s", counts)
    return counts


@shared_task(name="chatplatform.jobs.tasks.enqueue_kind", bind=True, acks_late=True, ignore_result=True)
def enqueue_kind(
    self, kind: str, payload: dict | None = None, slot_seconds: float | None = None
) -> int | None:
    """Create one job of `kind` for this schedule slot: a second beat's message (or a message
    delivered twice) in the same slot finds the slot's job by its idempotency key."""
    name = _periodic_task_name(self.request)
    slot = slot_seconds or _slot_seconds(name) or 60
    slot_start = math.floor(time.time() / slot) * slot
    try:
        job = job_create(
            kind,
            payload or {},
            idempotency_key=f"schedule:{kind}:{int(slot)}:{int(slot_start)}",
            origin=Job.Origin.SCHEDULE,
            origin_detail=name or "",
        )
    except ApplicationError as exc:
        logger.warning("The schedule could not create a %s job: %s %s", kind, exc.message, exc.fields)
        return None
    return job.pk


def _periodic_task_name(request) -> str:
    name = getattr(request, "periodic_task_name", None)
    if not name:
        name = (getattr(request, "headers", None) or {}).get("periodic_task_name")
    return name or ""


def _slot_seconds(name: str) -> float | None:
    """The interval of the beat row that sent the message (staff may edit it in admin)."""
    if not name:
        return None
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("interval").filter(name=name).first()
    if task is None or task.interval is None:
        return None
    return task.interval.every * _PERIOD_SECONDS.get(task.interval.period, 60)
