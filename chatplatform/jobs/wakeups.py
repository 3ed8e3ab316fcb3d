"""Celery messages that wake a worker up to claim the best runnable job.

A message carries nothing: the job table says what runs next (priority, then age, `run_at`
honoured), whichever broker carries the messages and in whatever order they arrive. A message that
is lost costs nothing but latency: the sweeper wakes workers up every minute while jobs wait.
"""

import logging

from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerError

from chatplatform.celery import app

logger = logging.getLogger(__name__)

# Further ahead than this, no delayed message is sent: the sweeper's wake-ups start the job. (A
# broker holds delayed messages in the worker's memory, and Redis hands long ones out again.)
MAX_DELAY_SECONDS = 60.0
JOBS_RUN_TASK = "chatplatform.jobs.tasks.jobs_run"


def jobs_wake(count: int = 1, *, delay: float = 0.0) -> None:
    """Send `count` wake-ups now (after the surrounding transaction commits, if there is one)."""
    if count <= 0 or delay > MAX_DELAY_SECONDS:
        return

    def send() -> None:
        # By name: the task lives in `tasks`, which imports the runner and services that call
        # this. Registered in every process (JobsConfig.ready), the signature resolves to the
        # task itself, with its options (and eager mode in tests).
        wakeup = app.signature(JOBS_RUN_TASK)
        try:
            for _ in range(count):
                wakeup.apply_async(queue=settings.JOBS_QUEUE, countdown=delay or None)
        except BrokerError:
            logger.warning("Could not wake a job worker up; the sweeper will", exc_info=True)

    transaction.on_commit(send, robust=True)
