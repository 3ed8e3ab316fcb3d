"""The tutor's job kinds: processing an uploaded document, and the embedding queue's runs."""

from rest_framework import serializers

from chatplatform.jobs.registry import JobContext, job_kind
from tutor.documents.services import DOCUMENT_PROCESS_KIND, document_process
from tutor.embeddings.queue import QUEUE_KIND, embedding_queue_run
from tutor.models import Document

_PROCESS_ATTEMPTS = 3


class DocumentProcessPayload(serializers.Serializer):
    document = serializers.IntegerField(help_text="The tutor document's id.")

    def validate_document(self, value: int) -> int:
        if not Document.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"There is no tutor document {value}.")
        return value


@job_kind(
    DOCUMENT_PROCESS_KIND,
    payload=DocumentProcessPayload,
    max_attempts=_PROCESS_ATTEMPTS,
    description="Reads an uploaded tutor document in a limited child process and stores its passages.",
)
def run_document_process(ctx: JobContext, payload: dict) -> dict:
    document = document_process(
        document_id=payload["document"],
        progress=ctx.progress,
        final_attempt=ctx.attempt >= _PROCESS_ATTEMPTS,
    )
    return {"document": document.pk, "status": document.status, "error_code": document.error_code}


@job_kind(
    QUEUE_KIND,
    max_attempts=1,
    description="Embeds pending tutor passages in batches, retrying failures and recovering dead claims.",
)
def run_embedding_queue(ctx: JobContext, payload: dict) -> dict:
    # The percentage has no end to aim at; each report renews the job's lease.
    run = embedding_queue_run(progress=lambda claimed: ctx.progress(0, f"{claimed} passages claimed"))
    return run.as_dict()
