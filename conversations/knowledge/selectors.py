"""Reads of knowledge-base documents, always within one chatbot."""

from django.db.models import QuerySet

from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings, KnowledgeDocument


def knowledge_document_list(
    *, chatbot: ChatbotSettings, flow: str | None = None, status: str | None = None
) -> QuerySet[KnowledgeDocument]:
    """The chatbot's documents, newest first, optionally of one flow and one status."""
    documents = KnowledgeDocument.objects.filter(chatbot=chatbot).select_related("chatbot")
    if flow:
        documents = documents.filter(flow=flow)
    if status:
        documents = documents.filter(status=status)
    return documents.order_by("-created_at", "-id")


def knowledge_document_get(*, chatbot: ChatbotSettings, document_id: int) -> KnowledgeDocument:
    """One of the chatbot's documents, or a 404 `document_not_found` (also for other chatbots')."""
    try:
        return KnowledgeDocument.objects.select_related("chatbot").get(chatbot=chatbot, pk=document_id)
    except KnowledgeDocument.DoesNotExist:
        raise ApplicationError(
            "document_not_found", f"There is no document {document_id} for this chatbot.", status_code=404
        ) from None
