"""The schedule's rows, one job per kind and slot, the beat lock, and retention cleanup."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from chatplatform import retention
from chatplatform.jobs.beat import beat_lock_acquire, beat_lock_release
from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import job_claim, job_run
from chatplatform.jobs.services import job_create
from chatplatform.jobs.tasks import enqueue_kind

pytestmark = pytest.mark.django_db


def test_the_migrations_schedule_health_retention_and_the_sweeper_beside_expired_images():
    rows = {task.name: task for task in PeriodicTask.objects.select_related("interval")}
    health, cleanup = rows["System health check"], rows["Retention cleanup"]
    sweep = rows["Sweep jobs whose lease expired"]
    assert (health.interval.every, health.interval.period) == (5, "minutes")
    assert json.loads(health.kwargs) == {"kind": "health_check", "payload": {}}
    assert (cleanup.interval.every, cleanup.interval.period) == (1, "hours")
    assert json.loads(cleanup.kwargs)["kind"] == "retention_cleanup"
    assert (sweep.task, sweep.interval.every, sweep.interval.period) == (
        "chatplatform.jobs.tasks.jobs_sweep",
        1,
        "minutes",
    )
    assert "Delete expired images" in rows


def test_two_messages_of_one_schedule_slot_make_one_job():
    # As two beats (or one message delivered twice) would send them in the same hour.
    message = {"kind": "retention_cleanup", "payload": {}, "slot_seconds": 3600}
    first = enqueue_kind.apply(kwargs=message).get()
    second = enqueue_kind.apply(kwargs=message).get()
    assert first == second
    job = Job.objects.get()
    assert (job.kind, job.origin) == ("retention_cleanup", Job.Origin.SCHEDULE)


def test_a_scheduled_unknown_kind_creates_nothing():
    assert enqueue_kind.apply(kwargs={"kind": "no_such_kind", "payload": {}}).get() is None
    assert not Job.objects.exists()


def test_only_one_beat_holds_the_lock_until_it_lets_go_or_stops_renewing():
    assert beat_lock_acquire("beat-1", seconds=30)
    assert not beat_lock_acquire("beat-2", seconds=30)
    assert beat_lock_acquire("beat-1", seconds=30)  # renewing
    beat_lock_release("beat-1")
    now = timezone.now()
    assert beat_lock_acquire("beat-2", seconds=30, now=now)
    assert not beat_lock_acquire("beat-3", seconds=30, now=now + timedelta(seconds=29))
    # beat-2 died without renewing: its lease runs out and another beat takes over.
    assert beat_lock_acquire("beat-3", seconds=30, now=now + timedelta(seconds=31))


def test_a_standing_by_scheduler_sends_nothing(monkeypatch):
    from chatplatform.celery import app
    from chatplatform.jobs.beat import LockedDatabaseScheduler

    assert beat_lock_acquire("the-running-beat", seconds=30)
    scheduler = LockedDatabaseScheduler(app=app, lazy=True)
    sent = []
    monkeypatch.setattr(scheduler, "apply_entry", lambda *args, **kwargs: sent.append(args))
    assert scheduler.tick() == scheduler.standby_seconds
    assert sent == []
    assert scheduler.lock_held is False


def test_retention_cleanup_reports_rows_deleted_per_cleaner(settings):
    settings.RETENTION_DAYS = 30
    old = job_create("test_noop", {})
    job_run(job_claim())
    Job.objects.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=31))
    recent_finished = job_create("test_noop", {})
    job_run(job_claim())
    cleanup = job_create("retention_cleanup", {})
    job_run(job_claim())

    cleanup.refresh_from_db()
    assert cleanup.status == Job.Status.SUCCEEDED, cleanup.error_message
    assert cleanup.result["deleted"]["finished jobs"] == 1
    assert "images (IMAGE_RETENTION_DAYS)" in cleanup.result["deleted"]
    assert set(Job.objects.values_list("pk", flat=True)) == {recent_finished.pk, cleanup.pk}


def test_a_failing_cleaner_does_not_stop_the_others(monkeypatch):
    ran = []

    def broken(older_than):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(retention, "_cleaners", {"broken": broken, "fine": lambda t: ran.append(t) or 2})
    with pytest.raises(Exception, match="broken") as failed:
        retention.retention_cleanup(older_than=timezone.now())
    assert failed.value.code == "cleaner_failed"
    assert len(ran) == 1
