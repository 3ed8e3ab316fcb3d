"""Creating, claiming, running, retrying, cancelling and sweeping jobs in this process."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from chatplatform import telemetry
from chatplatform.errors import ApplicationError
from chatplatform.jobs.models import Job
from chatplatform.jobs.runner import job_claim, job_run, jobs_run_available, retry_delay
from chatplatform.jobs.services import job_cancel, job_create, job_create_or_get, job_retry, jobs_sweep
from tests.chatplatform.jobs.probe_kinds import EFFECT_TABLE, effect_table_create

pytestmark = pytest.mark.django_db


def test_a_second_create_with_the_same_key_returns_the_first_job():
    first, created = job_create_or_get("test_noop", {}, idempotency_key="nightly-1")
    again, created_again = job_create_or_get("test_noop", {"steps": 9}, idempotency_key="nightly-1")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Job.objects.count() == 1


def test_the_same_key_of_two_chatbots_makes_two_jobs():
    one = job_create("test_noop", {}, idempotency_key="k", chatbot_id="shop-a")
    two = job_create("test_noop", {}, idempotency_key="k", chatbot_id="shop-b")
    assert one.pk != two.pk


@pytest.mark.parametrize(
    ("kind", "payload", "priority", "field"),
    [
        ("no_such_kind", {}, 5, "kind"),
        ("test_noop", {"steps": "many"}, 5, "payload"),
        ("test_noop", ["not", "an", "object"], 5, "payload"),
        ("test_noop", {}, 10, "priority"),
    ],
)
def test_an_invalid_job_is_refused_with_its_field_and_nothing_is_created(kind, payload, priority, field):
    with pytest.raises(ApplicationError) as refused:
        job_create(kind, payload, priority=priority)
    assert refused.value.code == "invalid"
    assert field in refused.value.fields
    assert not Job.objects.exists()


def test_the_highest_priority_then_the_oldest_job_is_claimed_first():
    low = [job_create("test_noop", {}, priority=0) for _ in range(3)]
    high = job_create("test_noop", {}, priority=9)
    order = []
    while (job := job_claim()) is not None:
        order.append(job.pk)
        job_run(job)
    assert order == [high.pk, *(job.pk for job in low)]


def test_a_job_runs_no_earlier_than_its_run_at():
    later = job_create("test_noop", {}, run_at=timezone.now() + timedelta(minutes=5))
    assert later.status == Job.Status.SCHEDULED
    assert job_claim() is None
    assert job_claim(now=timezone.now() + timedelta(minutes=6)).pk == later.pk


def test_a_job_that_keeps_failing_ends_failed_after_its_attempts_with_its_error():
    job = job_create("test_fail", {})
    assert jobs_run_available(budget_seconds=60) == 3
    job.refresh_from_db()
    assert (job.status, job.attempts, job.max_attempts) == (Job.Status.FAILED, 3, 3)
    assert (job.error_code, job.error_message) == ("upstream_down", "The upstream service did not answer.")


def test_a_transient_failure_is_retried_later_with_backoff(settings):
    settings.JOBS_RETRY_BACKOFF_SECONDS = 30
    settings.JOBS_RETRY_BACKOFF_MAX_SECONDS = 600
    job = job_create("test_fail", {})
    job_run(job_claim())
    job.refresh_from_db()
    assert job.status == Job.Status.SCHEDULED
    assert timedelta(seconds=14) < job.run_at - timezone.now() <= timedelta(seconds=30)
    assert job_claim() is None


def test_backoff_doubles_per_attempt_with_jitter_up_to_its_maximum(settings):
    settings.JOBS_RETRY_BACKOFF_SECONDS = 10
    settings.JOBS_RETRY_BACKOFF_MAX_SECONDS = 60
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = [retry_delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)


def test_a_permanent_error_fails_at_once():
    job = job_create("test_refuse", {})
    jobs_run_available(budget_seconds=60)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_code) == (Job.Status.FAILED, 1, "bad_input")


def test_a_cancelled_pending_job_never_starts():
    job = job_cancel(job=job_create("test_noop", {}))
    assert job.status == Job.Status.CANCELLED
    assert job_claim() is None
    assert job.started_at is None


def test_a_running_job_stops_at_its_next_progress_step_once_cancelled(tmp_path):
    job = job_create("test_block", {"folder": str(tmp_path), "delay": 0})
    claimed = job_claim()
    job_cancel(job=job)
    assert job_run(claimed) == Job.Status.CANCELLED
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert job.cancel_requested_at <= job.finished_at


def test_a_finished_job_cannot_be_cancelled_and_a_running_one_cannot_be_retried():
    job = job_create("test_noop", {})
    job_run(job_claim())
    with pytest.raises(ApplicationError) as refused:
        job_cancel(job=job)
    assert refused.value.code == "job_not_cancellable"
    with pytest.raises(ApplicationError) as refused:
        job_retry(job=job)
    assert refused.value.code == "job_not_retryable"


def test_a_failed_job_retried_runs_again_from_the_start():
    job = job_create("test_refuse", {})
    jobs_run_available(budget_seconds=60)
    job = job_retry(job=Job.objects.get(pk=job.pk))
    assert (job.status, job.attempts, job.error_code) == (Job.Status.PENDING, 0, "")
    assert job_claim().pk == job.pk


def test_the_sweeper_requeues_a_job_whose_lease_expired_and_fails_one_without_attempts():
    again = job_create("test_noop", {})
    job_claim()
    spent = job_create("test_noop", {})
    job_claim()
    Job.objects.filter(pk=spent.pk).update(attempts=3)
    later = timezone.now() + timedelta(minutes=5)

    counts = jobs_sweep(now=later)

    again.refresh_from_db()
    spent.refresh_from_db()
    assert (counts["requeued"], counts["failed"]) == (1, 1)
    assert (again.status, again.error_code, again.lease_token) == (Job.Status.PENDING, "worker_lost", "")
    assert (spent.status, spent.error_code) == (Job.Status.FAILED, "worker_lost")


def test_a_worker_presumed_dead_cannot_finish_the_job_another_worker_took_over():
    job = job_create("test_noop", {})
    stale = job_claim()
    jobs_sweep(now=timezone.now() + timedelta(minutes=5))
    fresh = job_claim()
    assert job_run(stale) == "lost"
    assert job_run(fresh) == Job.Status.SUCCEEDED
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)


def test_an_atomic_kinds_effect_is_undone_with_a_run_that_lost_its_lease():
    effect_table_create()
    job = job_create("test_effect", {"steps": 0})
    stale = job_claim()
    Job.objects.filter(pk=job.pk).update(lease_token="someone-else")
    assert job_run(stale) == "lost"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {EFFECT_TABLE}")  # noqa: S608  (a constant)
        assert cursor.fetchone() == (0,)


def test_progress_is_recorded_while_the_job_runs(tmp_path):
    (tmp_path / "release").touch()
    job = job_create("test_effect", {"steps": 2, "delay": 0})
    effect_table_create()
    seen = []
    claimed = job_claim()
    from chatplatform.jobs import runner

    original = runner._Context.progress

    def spy(self, percent, message=""):
        original(self, percent, message)
        seen.append(Job.objects.values_list("progress", "progress_message").get(pk=job.pk))

    runner._Context.progress = spy
    try:
        job_run(claimed)
    finally:
        runner._Context.progress = original
    assert seen == [(0, ""), (0, "step 1"), (50, "step 2")]
    job.refresh_from_db()
    assert (job.status, job.progress, job.result["pid"] > 0) == (Job.Status.SUCCEEDED, 100, True)


def test_a_run_is_recorded_as_a_job_call_of_its_chatbot(settings):
    settings.TELEMETRY_ENABLED = True
    records = []
    unsubscribe = telemetry.subscribe(records.append)
    try:
        job = job_create("test_noop", {}, chatbot_id="shop-a")
        job_run(job_claim())
    finally:
        unsubscribe()

    [record] = [r for r in records if r.operation == "job"]
    assert (record.request_model, record.outcome, record.feature) == ("test_noop", "ok", "job")
    assert (record.tenant_type, record.tenant_id) == ("chatbot", "shop-a")
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
