"""The `health_check` job kind: a health snapshot, every 5 minutes (a beat row of the jobs app)."""

from chatplatform.jobs.registry import JobContext, job_kind
from chatplatform.monitoring.services import snapshots_delete_older_than, take_snapshot
from chatplatform.retention import register_cleaner

register_cleaner("health snapshots", snapshots_delete_older_than)


@job_kind(
    "health_check",
    payload=None,
    max_attempts=1,
    description="Store a health snapshot: database, Redis, broker, workers, queues, scheduler, "
    "error rate and active chats.",
)
def run_health_check(ctx: JobContext, payload: dict) -> dict:
    snapshot = take_snapshot()
    return {
        "snapshot": snapshot.pk,
        "status": snapshot.status,
        "problems": snapshot.problems,
        "workers": snapshot.workers,
        "queue_depth": snapshot.queue_depth,
    }
