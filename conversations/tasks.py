"""Celery discovers each app's `tasks` module; this one gathers the conversations app's tasks."""

from conversations.chat.tasks import answers_record, answers_sweep
from conversations.images.tasks import images_delete_expired
from conversations.knowledge.tasks import ingest_document

__all__ = ["answers_record", "answers_sweep", "images_delete_expired", "ingest_document"]
