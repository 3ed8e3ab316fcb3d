"""Writes and checks on chatbots. Views, admin and commands call these; they hold no rules."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction

from chatplatform.errors import ApplicationError
from conversations.knowledge.layouts import embedder_for, index_layout
from conversations.models import ChatbotAPIKey, ChatbotSettings
from conversations.selectors import chatbot_get

if TYPE_CHECKING:
    from chatplatform.vectorstores.pinecone_check import IndexCheck, IndexExpectation


@transaction.atomic
def chatbot_api_key_create(*, chatbot_id: str, name: str) -> tuple[ChatbotAPIKey, str]:
    """Create an integration key for one chatbot; the plaintext key is returned only here."""
    name = name.strip()
    if not name:
        raise ApplicationError("invalid", "A key needs a name that says what it is for.")
    if len(name) > 50:
        raise ApplicationError("invalid", "A key name has at most 50 characters.")
    chatbot = chatbot_get(chatbot_id=chatbot_id)
    return ChatbotAPIKey.objects.create_key(chatbot=chatbot, name=name)


@dataclass(frozen=True)
class PineconeReport:
    chatbot_id: str
    ok: bool
    summary: str
    checks: tuple["IndexCheck", ...] = ()


def chatbot_pinecone_check(*, chatbot: ChatbotSettings) -> PineconeReport:
    """Can this chatbot reach each of its configured Pinecone indexes with its own key, and do
    they hold what its index layouts expect (dimension, namespace, metadata fields)?"""
    # The Pinecone SDK is heavy to import; only this check and the Pinecone store need it.
    from chatplatform.vectorstores.pinecone_check import check_pinecone_connection

    if not chatbot.pinecone_api_key:
        return PineconeReport(
            chatbot.chatbot_id, False, "no Pinecone API key is set; this chatbot uses the local vector store"
        )
    index_names = sorted({name for name in chatbot.flow_indexes().values() if name})
    checks = tuple(
        check_pinecone_connection(
            api_key=chatbot.pinecone_api_key,
            index_names=index_names,
            controller_host=settings.PINECONE_CONTROLLER_HOST,
            timeout=settings.PINECONE_TIMEOUT_SECONDS,
            expectations=_index_expectations(chatbot),
        )
    )
    ok = bool(checks) and all(check.ok for check in checks)
    summary = "; ".join(f"{check.index}: {check.reason}" if check.index else check.reason for check in checks)
    return PineconeReport(chatbot.chatbot_id, ok, summary or "no index is configured", checks)


def _index_expectations(chatbot: ChatbotSettings) -> dict[str, "IndexExpectation"]:
    """Per configured index, what its flow's layout expects (the first flow's, if two share it)."""
    from chatplatform.documents.pipeline import embedding_model_name
    from chatplatform.vectorstores.pinecone_check import FieldMapping, IndexExpectation

    flows = {flow.name: flow for flow in chatbot.flows.all()}
    expectations: dict[str, IndexExpectation] = {}
    for flow_name, index_name in chatbot.flow_indexes().items():
        if not index_name or index_name in expectations:
            continue
        layout = index_layout(chatbot, flows.get(flow_name))
        embedder = embedder_for(layout.embedding_model)
        expectations[index_name] = IndexExpectation(
            namespace=layout.namespace,
            dimension=embedder.dimension,
            model=layout.embedding_model or f"of the platform ({embedding_model_name(embedder)})",
            fields=FieldMapping(layout.text_field, layout.title_field, layout.source_field),
        )
    return expectations
