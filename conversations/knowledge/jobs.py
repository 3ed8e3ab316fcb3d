"""The `knowledge_reindex` job kind: ingest every document of a chatbot's knowledge base again.

Each document goes through the ingestion service in turn, and the job's progress moves on per
document, so a cancel stops it between two documents.
"""

from rest_framework import serializers

from chatplatform.ai.base import ProviderError
from chatplatform.errors import ApplicationError
from chatplatform.jobs.errors import JobError
from chatplatform.jobs.registry import JobContext, job_kind
from chatplatform.vectorstores.base import VectorStoreError
from conversations.knowledge.ingestion import knowledge_document_ingest
from conversations.models import ChatbotSettings, Flow, KnowledgeDocument


class KnowledgeReindexPayload(serializers.Serializer):
    chatbot = serializers.CharField(max_length=100, help_text="The chatbot's id, e.g. nordvin.")
    flow = serializers.ChoiceField(
        choices=Flow.Name.choices, required=False, help_text="Only this flow's documents."
    )

    def validate_chatbot(self, value: str) -> str:
        if not ChatbotSettings.objects.filter(chatbot_id=value).exists():
            raise serializers.ValidationError(f'There is no chatbot "{value}".')
        return value


@job_kind(
    "knowledge_reindex",
    payload=KnowledgeReindexPayload,
    max_attempts=3,
    integrations=True,
    description="Ingests every document of a chatbot's knowledge base again, one after the other.",
)
def run_knowledge_reindex(ctx: JobContext, payload: dict) -> dict:
    documents = KnowledgeDocument.objects.filter(chatbot__chatbot_id=payload["chatbot"])
    if payload.get("flow"):
        documents = documents.filter(flow=payload["flow"])
    ids = list(documents.order_by("pk").values_list("pk", flat=True))
    outcome = {"documents": len(ids), "ready": 0, "failed": 0, "missing": 0}
    for done, document_id in enumerate(ids):
        ctx.progress(done * 100 // len(ids), f"document {done + 1} of {len(ids)}")
        try:
            document = knowledge_document_ingest(document_id=document_id)
        except ApplicationError:
            outcome["missing"] += 1  # deleted while the job ran
            continue
        except (VectorStoreError, ProviderError) as exc:
            # An outage: the whole job is tried again later (documents are idempotent to ingest).
            message = f"Document {done + 1} of {len(ids)}: {exc.message}"
            raise JobError(exc.code, message, transient=True) from exc
        key = "ready" if document.status == KnowledgeDocument.Status.READY else "failed"
        outcome[key] += 1
    ctx.progress(100, f"{len(ids)} document(s) reindexed")
    return outcome
