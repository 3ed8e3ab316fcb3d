"""Work that follows answers, off the stream: storing the context chunks they used, then telling
the apps that keep records of answers (`answers_recorded`: analytics), which this app does not
import.

The registered name predates the chat wing: queued messages and the `chat` queue's route name
the task by it, so it stays.
"""

import logging
from typing import Any

from celery import shared_task
from django.dispatch import Signal

from conversations.chat.models import ContextChunk, Message

logger = logging.getLogger(__name__)

# Sent with `answer_ids` (stored answers, final) once their chunks are stored. A failing receiver
# is logged and never undoes or repeats the chunks' record.
answers_recorded = Signal()


@shared_task(name="conversations.chat_tasks.answers_record", acks_late=True, ignore_result=True)
def answers_record(records: list[dict[str, Any]]) -> None:
    """Store the chunks each answer (`answer_id`, `context`) was grounded in and send
    `answers_recorded`; answers deleted meanwhile are skipped, and running it twice stores them once."""
    wanted = {str(record["answer_id"]) for record in records}
    present = {str(pk) for pk in Message.objects.filter(id__in=wanted).values_list("id", flat=True)}
    ContextChunk.objects.bulk_create(
        [
            ContextChunk(
                message_id=record["answer_id"],
                rank=rank,
                vector_id=str(chunk.get("id", ""))[:128],
                index_name=str(chunk.get("index", ""))[:45],
                source=str(chunk.get("source", ""))[:255],
                score=float(chunk.get("score", 0.0)),
                text=str(chunk.get("text", "")),
            )
            for record in records
            if str(record["answer_id"]) in present
            for rank, chunk in enumerate(record.get("context") or [], start=1)
        ],
        ignore_conflicts=True,
    )
    if present:
        for receiver, result in answers_recorded.send_robust(
            sender=answers_record, answer_ids=sorted(present)
        ):
            if isinstance(result, Exception):
                logger.error(
                    "Answer record %s failed: %r", getattr(receiver, "__qualname__", receiver), result
                )
