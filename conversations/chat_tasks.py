"""Work that follows an answer, off the stream: storing the context chunks it used."""

from typing import Any

from celery import shared_task

from conversations.models import ContextChunk, Message


@shared_task(acks_late=True, ignore_result=True)
def answer_record(answer_id: str, context: list[dict[str, Any]], metrics: dict[str, Any]) -> None:
    """Store the chunks an answer was grounded in; running it twice stores them once."""
    if not Message.objects.filter(id=answer_id).exists():
        return
    ContextChunk.objects.bulk_create(
        [
            ContextChunk(
                message_id=answer_id,
                rank=rank,
                vector_id=str(chunk.get("id", ""))[:128],
                index_name=str(chunk.get("index", ""))[:45],
                source=str(chunk.get("source", ""))[:255],
                score=float(chunk.get("score", 0.0)),
                text=str(chunk.get("text", "")),
            )
            for rank, chunk in enumerate(context, start=1)
        ],
        ignore_conflicts=True,
    )
