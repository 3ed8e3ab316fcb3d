"""The Celery app, configured from Django settings (the `CELERY_` namespace).

Queues: `chat` for work that follows an answer (analysis, metrics, context chunks), `ingestion`
for knowledge-base and document processing, `maintenance` for scheduled housekeeping, `jobs` for
background jobs (chatplatform/jobs: the messages only wake a worker up to claim a job); the
routes below send each task module to its queue. Tasks are idempotent and take ids, so late
acknowledgement with rejection on a lost worker is safe: a task interrupted by a crash runs again
instead of being lost.
"""

import os

from celery import Celery
from celery.signals import worker_process_shutdown
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")

app = Celery("chatplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("chat", "ingestion", "maintenance", "jobs")]
app.conf.task_routes = {
    "conversations.chat_tasks.*": {"queue": "chat"},
    "conversations.knowledge.tasks.*": {"queue": "ingestion"},
    "conversations.images.tasks.*": {"queue": "maintenance"},
    # Job wake-ups go to `jobs` (the sender names JOBS_QUEUE); the schedule's job tasks to `maintenance`.
    "chatplatform.jobs.tasks.jobs_run": {"queue": "jobs"},
    "chatplatform.jobs.tasks.*": {"queue": "maintenance"},
}
app.conf.task_default_retry_delay = 5
app.autodiscover_tasks()

# Bounded retries with backoff for every task that opts into automatic retry.
TASK_RETRY_POLICY = {"max_retries": 3, "retry_backoff": True, "retry_backoff_max": 60, "retry_jitter": True}


@worker_process_shutdown.connect
def _telemetry_flush(**kwargs) -> None:
    # A prefork child may leave without running atexit handlers; its buffered call records go
    # out here instead of being lost with it.
    from chatplatform.telemetry.recorder import recorder

    recorder.close()
