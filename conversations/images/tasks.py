"""The retention task: deletes images past `IMAGE_RETENTION_DAYS` (hourly, django-celery-beat)."""

import logging

from celery import shared_task

from conversations.images.services import images_delete_expired as images_delete_expired_service

logger = logging.getLogger(__name__)


# `task_routes` in chatplatform/celery.py sends this module's tasks to the `maintenance` queue.
# Idempotent: an interrupted run leaves only rows and files that the next run deletes.
@shared_task(acks_late=True)
def images_delete_expired() -> int:
    deleted = images_delete_expired_service()
    if deleted:
        logger.info("Deleted %d expired image(s)", deleted)
    return deleted
