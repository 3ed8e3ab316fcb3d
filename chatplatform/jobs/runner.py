"""Claiming and running jobs: the worker's side.

A claim is one conditional UPDATE of the best runnable row (highest priority, then oldest; on
PostgreSQL chosen with `SELECT ... FOR UPDATE SKIP LOCKED`), which gives the worker a lease token.
Every later write of the worker is conditional on that token, so a worker presumed dead (its lease
expired, the sweeper requeued the job, another worker claimed it) can no longer touch the job.
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from chatplatform import telemetry
from chatplatform.jobs.errors import JobCancelled, JobError, JobLeaseLost
from chatplatform.jobs.models import Job
from chatplatform.jobs.registry import JobKind, kind_get
from chatplatform.jobs.wakeups import jobs_wake

logger = logging.getLogger(__name__)

_S = Job.Status


def worker_name() -> str:
    # Computed per call: a prefork child has its own pid.
    return f"{socket.gethostname()}:{os.getpid()}"


def retry_delay(attempt: int) -> float:
    """Seconds before try `attempt + 1`: exponential from JOBS_RETRY_BACKOFF_SECONDS, capped, with
    jitter (half to all of it) so that jobs that failed together do not retry together."""
    base = settings.JOBS_RETRY_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0)
    capped = min(base, settings.JOBS_RETRY_BACKOFF_MAX_SECONDS)
    return capped * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not security)


def runnable(now: datetime):
    return (
        Job.objects.filter(status__in=Job.WAITING)
        .filter(Q(run_at__isnull=True) | Q(run_at__lte=now))
        .order_by("-priority", "created_at", "id")
    )


def job_claim(*, now: datetime | None = None) -> Job | None:
    """Take the best runnable job for this process, or None when nothing is runnable."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claim = {
        "status": _S.RUNNING,
        "lease_token": token,
        "lease_expires_at": now + timedelta(seconds=settings.JOBS_LEASE_SECONDS),
        "attempts": F("attempts") + 1,
        "started_at": now,
        "worker": worker_name(),
        "progress": 0,
        "progress_message": "",
        "updated_at": now,
    }
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            job_id = runnable(now).select_for_update(skip_locked=True).values_list("id", flat=True).first()
            if job_id is None:
                return None
            Job.objects.filter(id=job_id).update(**claim)
    else:
        # SQLite: no row locks, but each UPDATE is atomic; whoever's UPDATE matched has it.
        for _ in range(20):
            job_id = runnable(now).values_list("id", flat=True).first()
            if job_id is None:
                return None
            if runnable(now).filter(id=job_id).update(**claim):
                break
        else:
            return None
    return Job.objects.get(id=job_id)


class _Context:
    """The `JobContext` of one run."""

    def __init__(self, job: Job) -> None:
        self.job_id = job.pk
        self.attempt = job.attempts
        self.token = job.lease_token

    def progress(self, percent: int, message: str = "") -> None:
        now = timezone.now()
        updated = Job.objects.filter(
            id=self.job_id, lease_token=self.token, status=_S.RUNNING, cancel_requested_at__isnull=True
        ).update(
            progress=max(0, min(100, int(percent))),
            progress_message=str(message)[:200],
            lease_expires_at=now + timedelta(seconds=settings.JOBS_LEASE_SECONDS),
            updated_at=now,
        )
        if not updated:
            self._stop()

    def _stop(self) -> None:
        row = Job.objects.filter(id=self.job_id).values("lease_token", "cancel_requested_at").first()
        if row and row["lease_token"] == self.token and row["cancel_requested_at"]:
            raise JobCancelled()
        raise JobLeaseLost()


class _LeaseKeeper(threading.Thread):
    """Renews the lease while a kind works between progress steps."""

    def __init__(self, job_id: int, token: str) -> None:
        super().__init__(name=f"job-{job_id}-lease", daemon=True)
        self.job_id = job_id
        self.token = token
        self.done = threading.Event()

    def run(self) -> None:
        interval = max(settings.JOBS_LEASE_SECONDS / 3, 0.5)
        try:
            while not self.done.wait(interval):
                now = timezone.now()
                Job.objects.filter(id=self.job_id, lease_token=self.token, status=_S.RUNNING).update(
                    lease_expires_at=now + timedelta(seconds=settings.JOBS_LEASE_SECONDS)
                )
        except Exception:
            logger.warning("Could not renew the lease of job %s", self.job_id, exc_info=True)
        finally:
            connection.close()


def _finish(job: Job, **fields: Any) -> bool:
    """Write the outcome, if this run still holds the job."""
    now = timezone.now()
    fields.setdefault("finished_at", now)
    return bool(
        Job.objects.filter(id=job.pk, lease_token=job.lease_token, status=_S.RUNNING).update(
            lease_token="", lease_expires_at=None, updated_at=now, **fields
        )
    )


def _json_result(result: Any) -> Any:
    return json.loads(json.dumps(result, cls=DjangoJSONEncoder))


def job_run(job: Job) -> str:
    """Run a claimed job to its outcome; return the status it ended with ("lost" if taken over)."""
    kind = kind_get(job.kind)
    if kind is None:
        _finish(job, status=_S.FAILED, error_code="unknown_kind", error_message=f"No kind {job.kind!r}.")
        return _S.FAILED
    keeper = _LeaseKeeper(job.pk, job.lease_token)
    keeper.start()
    try:
        # A chatbot's job, and the calls it makes, are counted for that chatbot.
        tenant = {"tenant_type": "chatbot", "tenant_id": job.chatbot} if job.chatbot else {}
        with (
            telemetry.context(feature="job", **tenant),
            telemetry.span(operation="job", provider="celery", model=job.kind) as call,
        ):
            outcome, code = _execute(kind, job)
            if code:
                call.fail(code)
        return outcome
    finally:
        keeper.done.set()
        keeper.join()


def _execute(kind: JobKind, job: Job) -> tuple[str, str]:
    ctx = _Context(job)
    payload = dict(job.payload or {})
    try:
        if kind.atomic:
            with transaction.atomic():
                # A write first: it checks the lease and, on SQLite, takes the write lock before
                # the kind reads anything (a read lock upgraded later can fail at once when busy).
                ctx.progress(0)
                result = _json_result(kind.run(ctx, payload))
                if not _finish(job, status=_S.SUCCEEDED, progress=100, result=result):
                    raise JobLeaseLost()
        else:
            result = _json_result(kind.run(ctx, payload))
            if not _finish(job, status=_S.SUCCEEDED, progress=100, result=result):
                raise JobLeaseLost()
    except JobLeaseLost:
        logger.info("Job %s was taken over by another worker; this run stops", job.pk)
        return "lost", ""
    except JobCancelled:
        _finish(job, status=_S.CANCELLED)
        return _S.CANCELLED, ""
    except JobError as exc:
        if exc.transient:
            return _retry_or_fail(job, exc.code, exc.message), exc.code
        _finish(job, status=_S.FAILED, error_code=exc.code, error_message=exc.message[:1000])
        return _S.FAILED, exc.code
    except SoftTimeLimitExceeded:
        return _retry_or_fail(job, "time_limit", "The job ran past the task time limit."), "time_limit"
    except (TypeError, ValueError) as exc:
        if "JSON serializable" in str(exc):
            _finish(job, status=_S.FAILED, error_code="invalid_result", error_message="Result is not JSON.")
            return _S.FAILED, "invalid_result"
        return _unexpected(job, exc)
    except Exception as exc:
        return _unexpected(job, exc)
    return _S.SUCCEEDED, ""


def _unexpected(job: Job, exc: Exception) -> tuple[str, str]:
    # A bug or an outage (the database gone for a moment): retried within the attempts. Only the
    # class name is stored: an exception's text can hold personal data.
    logger.exception("Job %s (%s) failed unexpectedly", job.pk, job.kind)
    message = f"Unexpected error ({type(exc).__name__}); see the worker's log."
    return _retry_or_fail(job, "unexpected_error", message), "unexpected_error"


def _retry_or_fail(job: Job, code: str, message: str) -> str:
    if job.attempts >= job.max_attempts:
        _finish(job, status=_S.FAILED, error_code=code, error_message=message[:1000])
        return _S.FAILED
    delay = retry_delay(job.attempts)
    retried = _finish(
        job,
        status=_S.SCHEDULED,
        run_at=timezone.now() + timedelta(seconds=delay),
        finished_at=None,
        worker="",
        error_code=code,
        error_message=message[:1000],
    )
    if retried:
        jobs_wake(delay=delay)
    return _S.SCHEDULED


def jobs_run_available(*, budget_seconds: float | None = None) -> int:
    """Claim and run jobs until none is runnable or the budget is spent; return how many ran."""
    budget = settings.JOBS_DRAIN_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    ran = 0
    while True:
        job = job_claim()
        if job is None:
            return ran
        job_run(job)
        ran += 1
        if time.monotonic() - started >= budget:
            # Leave the worker to its other queues; another message picks the rest up.
            if runnable(timezone.now()).exists():
                jobs_wake()
            return ran
