"""The beat scheduler: django-celery-beat's database scheduler behind a lock.

Exactly one beat may send the schedule. Each beat takes (or renews) the `beat` row of `BeatLock`
with one conditional UPDATE before every tick; one that does not hold it sends nothing and asks
again a few seconds later, so a second beat started by mistake stands by, and takes over within
BEAT_LOCK_SECONDS if the first one dies. (Jobs created by the schedule also carry one
idempotency key per kind and slot, for the moment in which both might think they hold it.)
"""

import logging
import os
import socket
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import Q
from django.utils import timezone
from django_celery_beat.schedulers import DatabaseScheduler

from chatplatform.jobs.models import BeatLock

logger = logging.getLogger(__name__)

LOCK_NAME = "beat"


def beat_lock_acquire(holder: str, *, seconds: float | None = None, now: datetime | None = None) -> bool:
    """Take or renew the beat lock for `holder`; False when another live beat holds it."""
    now = now or timezone.now()
    expires = now + timedelta(seconds=seconds or settings.BEAT_LOCK_SECONDS)
    free_or_mine = Q(holder=holder) | Q(expires_at__lt=now) | Q(expires_at__isnull=True)
    if BeatLock.objects.filter(free_or_mine, name=LOCK_NAME).update(holder=holder, expires_at=expires):
        return True
    try:
        with transaction.atomic():
            BeatLock.objects.create(name=LOCK_NAME, holder=holder, expires_at=expires)
    except IntegrityError:
        return False  # it exists and someone else holds it
    return True


def beat_lock_release(holder: str) -> None:
    BeatLock.objects.filter(name=LOCK_NAME, holder=holder).update(holder="", expires_at=None)


class LockedDatabaseScheduler(DatabaseScheduler):
    """`DatabaseScheduler` that ticks only while it holds the beat lock."""

    # How soon a standing-by beat asks for the lock again.
    standby_seconds = 5.0

    def __init__(self, *args, **kwargs):
        self.lock_holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lock_held = False
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        try:
            close_old_connections()
            held = beat_lock_acquire(self.lock_holder)
        except DatabaseError:
            logger.warning("Beat could not reach the database for its lock; standing by", exc_info=True)
            held = False
        if held and not self.lock_held:
            logger.info("Beat holds the schedule lock (%s)", self.lock_holder)
            # Read the schedule afresh: the beat that held the lock before may have run entries.
            self._initial_read = True
            self._heap = None
        elif not held and self.lock_held:
            logger.warning("Beat lost the schedule lock; standing by")
        elif not held:
            logger.info("Another beat holds the schedule lock; standing by")
        self.lock_held = held
        if not held:
            return self.standby_seconds
        return min(super().tick(*args, **kwargs), settings.BEAT_LOCK_SECONDS / 3)

    def close(self):
        if self.lock_held:
            try:
                beat_lock_release(self.lock_holder)
            except DatabaseError:
                logger.warning("Beat could not release its lock", exc_info=True)
        super().close()
