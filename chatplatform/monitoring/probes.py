"""What the health snapshot and /metrics read from the broker and the scheduler: workers that
answer a ping, messages waiting per queue, and the scheduler's last run."""

import logging
import os
from datetime import datetime
from pathlib import Path

import redis
from django.conf import settings
from django.db.models import Max
from kombu import Connection
from kombu.pidbox import Mailbox

logger = logging.getLogger(__name__)

# Long enough for the file broker, which polls its control folder about once a second.
WORKER_PING_TIMEOUT_SECONDS = 2.0
# kombu's Redis transport keeps a queue's messages of priority p (p > 0) in "<queue>\x06\x16<p>".
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (3, 6, 9)


def queue_names() -> list[str]:
    from chatplatform.celery import app

    return [queue.name for queue in app.conf.task_queues]


def _uses_file_broker() -> bool:
    return settings.CELERY_BROKER_URL.startswith("filesystem://")


def broker_connection() -> Connection:
    """A kombu connection to the broker the settings name now (tests change them)."""
    if _uses_file_broker():
        return Connection(
            settings.CELERY_BROKER_URL,
            transport=settings.CELERY_BROKER_TRANSPORT,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        )
    return Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
        transport_options={"socket_timeout": settings.CELERY_BROKER_CONNECTION_TIMEOUT},
    )


def workers_ping(timeout: float | None = None) -> list[str] | None:
    """The names of the workers that answered a ping within `timeout`; None when the broker could
    not be asked (then nobody knows how many workers there are)."""
    from chatplatform.celery import app

    # Celery's own `app.control.ping` publishes through the app's producer pool, on the broker the
    # app was configured with: a mailbox of our own sends on this connection.
    mailbox = Mailbox(
        app.conf.control_exchange, type="fanout", accept=["json"], serializer="json", reply_queue_expires=10.0
    )
    try:
        with broker_connection() as connection:
            replies = mailbox(connection)._broadcast(
                "ping", reply=True, timeout=WORKER_PING_TIMEOUT_SECONDS if timeout is None else timeout
            )
    except Exception as exc:
        logger.warning("Could not ping the workers: %s", exc.__class__.__name__)
        return None
    return sorted(name for reply in replies or [] for name in reply)


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each Celery queue (priority sub-queues included); None for a queue
    whose depth could not be read."""
    names = queue_names()
    try:
        if _uses_file_broker():
            return _file_queue_depths(names)
        return _redis_queue_depths(names)
    except Exception as exc:
        logger.warning("Could not read the queue depths: %s", exc.__class__.__name__)
        return dict.fromkeys(names)


def _file_queue_depths(names: list[str]) -> dict[str, int | None]:
    # chatplatform.file_broker names a waiting message "<ms>_<uuid>.<queue>.msg"; partial writes
    # start with a dot and fetched ones live in held/.
    counts = dict.fromkeys(names, 0)
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    for name in os.listdir(folder):
        if name.startswith(".") or not name.endswith(".msg"):
            continue
        queue = name.partition(".")[2].removesuffix(".msg")
        if queue in counts:
            counts[queue] += 1
    return counts


def _redis_queue_depths(names: list[str]) -> dict[str, int | None]:
    timeout = settings.CELERY_BROKER_CONNECTION_TIMEOUT
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.llen(name)
                for step in REDIS_PRIORITY_STEPS:
                    pipe.llen(f"{name}{REDIS_PRIORITY_SEPARATOR}{step}")
            lengths = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(REDIS_PRIORITY_STEPS)
    return {
        name: sum(lengths[index * per_queue : (index + 1) * per_queue]) for index, name in enumerate(names)
    }


def last_beat_run() -> datetime | None:
    """When the scheduler last sent a periodic task (django-celery-beat's rows)."""
    from django_celery_beat.models import PeriodicTask

    return PeriodicTask.objects.aggregate(last=Max("last_run_at"))["last"]
