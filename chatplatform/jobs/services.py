"""Write paths of jobs: create, cancel, retry, and the sweeper of expired leases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers, status

from chatplatform.errors import ApplicationError
from chatplatform.jobs.models import Job
from chatplatform.jobs.registry import kind_get
from chatplatform.jobs.runner import runnable
from chatplatform.jobs.wakeups import jobs_wake

_S = Job.Status

# Wake-ups the sweeper sends at most per run while jobs wait (each drains what it can).
SWEEP_MAX_WAKEUPS = 20


def _invalid(fields: dict[str, Any]) -> ApplicationError:
    return ApplicationError("invalid", "The job is not valid.", fields=fields)


def job_create(kind: str, payload: dict | None = None, **options: Any) -> Job:
    """Create a job of a registered kind and wake a worker up once it is committed; `options`
    as `job_create_or_get` takes them.

    A second create with the same idempotency key (per chatbot) returns the first job. Raises
    ApplicationError `invalid` with the field errors for an unknown kind or a bad payload.
    """
    job, _ = job_create_or_get(kind, payload, **options)
    return job


def job_create_or_get(
    kind: str,
    payload: dict | None = None,
    *,
    priority: int = 5,
    run_at: datetime | None = None,
    idempotency_key: str | None = None,
    created_by=None,
    chatbot_id: str | None = None,
    origin: str | None = None,
    origin_detail: str = "",
) -> tuple[Job, bool]:
    """`job_create`, also saying whether the job is new (False: the idempotency key's job)."""
    spec = kind_get(kind)
    if spec is None:
        raise _invalid({"kind": [f'"{kind}" is not a registered job kind.']})
    if not isinstance(priority, int) or isinstance(priority, bool) or not 0 <= priority <= 9:
        raise _invalid({"priority": ["Must be an integer from 0 to 9."]})
    payload = dict(payload) if isinstance(payload, dict) else payload
    wants_chatbot = spec.payload is not None and "chatbot" in spec.payload().fields
    if chatbot_id and wants_chatbot and isinstance(payload, dict):
        payload.setdefault("chatbot", chatbot_id)
        if payload["chatbot"] != chatbot_id:
            raise _invalid({"payload": {"chatbot": ["Must be the chatbot of your API key."]}})
    try:
        payload = spec.payload_validate(payload)
    except serializers.ValidationError as exc:
        raise _invalid(exc.detail) from None
    chatbot = chatbot_id or (str(payload.get("chatbot", "")) if wants_chatbot else "")
    key = idempotency_key or None
    if key is not None:
        existing = Job.objects.filter(chatbot=chatbot, idempotency_key=key).first()
        if existing is not None:
            return existing, False
    now = timezone.now()
    later = run_at is not None and run_at > now
    fields = {
        "kind": kind,
        "payload": payload,
        "priority": priority,
        "run_at": run_at,
        "status": _S.SCHEDULED if later else _S.PENDING,
        "max_attempts": spec.max_attempts,
        "idempotency_key": key,
        "chatbot": chatbot,
        "created_by": created_by if getattr(created_by, "pk", None) else None,
        "origin": origin or (Job.Origin.STAFF if getattr(created_by, "pk", None) else Job.Origin.SYSTEM),
        "origin_detail": origin_detail[:100],
    }
    try:
        with transaction.atomic():
            job = Job.objects.create(**fields)
            jobs_wake(delay=(run_at - now).total_seconds() if later else 0.0)
    except IntegrityError:
        if key is None:
            raise
        # Two creates with one key raced; the other one's job is the job.
        return Job.objects.get(chatbot=chatbot, idempotency_key=key), False
    return job, True


def job_cancel(*, job: Job) -> Job:
    """Cancel a job: one that waits never starts; a running one stops at its next progress step."""
    now = timezone.now()
    with transaction.atomic():
        waiting = Job.objects.filter(pk=job.pk, status__in=Job.WAITING).update(
            status=_S.CANCELLED, cancel_requested_at=now, finished_at=now, updated_at=now
        )
        if not waiting:
            Job.objects.filter(pk=job.pk, status=_S.RUNNING, cancel_requested_at__isnull=True).update(
                cancel_requested_at=now, updated_at=now
            )
    job.refresh_from_db()
    if job.status in (_S.SUCCEEDED, _S.FAILED):
        raise ApplicationError(
            "job_not_cancellable",
            f"The job has already {job.status}.",
            status_code=status.HTTP_409_CONFLICT,
        )
    return job


def job_retry(*, job: Job) -> Job:
    """Run a failed or cancelled job again from the start, with its attempts counted afresh."""
    now = timezone.now()
    with transaction.atomic():
        retried = Job.objects.filter(pk=job.pk, status__in=(_S.FAILED, _S.CANCELLED)).update(
            status=_S.PENDING,
            attempts=0,
            progress=0,
            progress_message="",
            result=None,
            error_code="",
            error_message="",
            run_at=None,
            started_at=None,
            finished_at=None,
            cancel_requested_at=None,
            worker="",
            updated_at=now,
        )
        if retried:
            jobs_wake()
    job.refresh_from_db()
    if not retried:
        raise ApplicationError(
            "job_not_retryable",
            f"Only failed or cancelled jobs can be retried; this one is {job.status}.",
            status_code=status.HTTP_409_CONFLICT,
        )
    return job


def jobs_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Take back jobs whose worker stopped renewing its lease, and wake workers for waiting jobs.

    A job whose lease expired goes back to `pending` if it has attempts left, else `failed`
    (`worker_lost`); one whose cancel was asked for becomes `cancelled`.
    """
    now = now or timezone.now()
    counts = {"requeued": 0, "failed": 0, "cancelled": 0, "woken": 0}
    expired = Job.objects.filter(status=_S.RUNNING, lease_expires_at__lt=now).values(
        "id", "lease_token", "attempts", "max_attempts", "cancel_requested_at"
    )
    lost = "The worker running the job stopped (its lease expired)."
    for row in expired:
        held = Job.objects.filter(id=row["id"], status=_S.RUNNING, lease_token=row["lease_token"])
        released = {"lease_token": "", "lease_expires_at": None, "worker": "", "updated_at": now}
        if row["cancel_requested_at"]:
            counts["cancelled"] += held.update(status=_S.CANCELLED, finished_at=now, **released)
        elif row["attempts"] < row["max_attempts"]:
            counts["requeued"] += held.update(
                status=_S.PENDING, error_code="worker_lost", error_message=lost, **released
            )
        else:
            counts["failed"] += held.update(
                status=_S.FAILED, error_code="worker_lost", error_message=lost, finished_at=now, **released
            )
    waiting = runnable(now).count()
    counts["woken"] = min(waiting, SWEEP_MAX_WAKEUPS)
    jobs_wake(counts["woken"])
    return counts
