"""Celery discovers each app's `tasks` module; these are the conversations app's tasks."""

from celery import shared_task

from conversations.chat.answer_sweeper import answers_sweep as answers_sweep_service
from conversations.chat.tasks import answers_record
from conversations.images.tasks import images_delete_expired
from conversations.knowledge.tasks import ingest_document

__all__ = ["answers_record", "answers_sweep", "images_delete_expired", "ingest_document"]


# Every minute by beat, on the `maintenance` queue (the default). Idempotent: each answer is
# updated only while it is still `streaming`. Here rather than in chat/tasks.py, whose record
# task the sweeper's writes queue: the arrows run one way.
@shared_task(acks_late=True, ignore_result=True)
def answers_sweep() -> None:
    answers_sweep_service()
