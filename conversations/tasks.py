"""Celery discovers each app's `tasks` module; these are the conversations app's tasks."""

from conversations.chat_tasks import answers_record
from conversations.images.tasks import images_delete_expired
from conversations.knowledge.tasks import ingest_document

__all__ = ["answers_record", "images_delete_expired", "ingest_document"]
