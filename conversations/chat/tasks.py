"""The chat's background work: storing the context chunks answers used, and the answer sweeper.

The registered names predate the chat wing: queued messages, the `chat` queue's route and the
sweeper's beat row name the tasks by them, so they stay.
"""

from typing import Any

from celery import shared_task

from conversations.chat.answer_sweeper import answers_sweep as answers_sweep_service
from conversations.models import ContextChunk, Message


@shared_task(name="conversations.chat_tasks.answers_record", acks_late=True, ignore_result=True)
def answers_record(records: list[dict[str, Any]]) -> None:
    """Store the chunks each answer (`answer_id`, `context`) was grounded in; answers deleted
    meanwhile are skipped, and running it twice stores them once."""
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
            for rank, chunk in enumerate(record["context"], start=1)
        ],
        ignore_conflicts=True,
    )


# Every minute by beat, on the `maintenance` queue (the default). Idempotent: each answer is
# updated only while it is still `streaming`.
@shared_task(name="conversations.tasks.answers_sweep", acks_late=True, ignore_result=True)
def answers_sweep() -> None:
    answers_sweep_service()
