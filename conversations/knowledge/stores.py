"""Which vector store and index a chatbot's flow uses.

A chatbot with a Pinecone key uses its own Pinecone project, in the namespace its settings name
(by default its id; `knowledge/layouts.py`); every other chatbot uses the local store, whose
table all chatbots share, so there the namespace is always the chatbot's id. The index name comes
from the chatbot's own settings, never from a request, so one chatbot can never reach another
chatbot's vectors.
"""

from __future__ import annotations

from django.conf import settings

from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import VectorStore
from conversations.knowledge.layouts import IndexLayout, index_layout
from conversations.models import FLOW_INDEX_FIELDS, ChatbotSettings, Flow, KnowledgeDocument


def flow_index_name(chatbot: ChatbotSettings, flow: Flow | str) -> str:
    """The knowledge-base index configured for one of the chatbot's flows.

    Raises `flow_index_not_configured` when the flow has no index, and `flow_unknown` for a name
    that is not one of the five flows.
    """
    name = flow.name if isinstance(flow, Flow) else flow
    if name not in FLOW_INDEX_FIELDS:
        raise ApplicationError(
            "flow_unknown",
            f'There is no flow "{name}"; use one of {", ".join(FLOW_INDEX_FIELDS)}.',
            fields={"flow": [f"Use one of {', '.join(FLOW_INDEX_FIELDS)}."]},
        )
    index_name = chatbot.flow_indexes()[name]
    if not index_name:
        raise ApplicationError(
            "flow_index_not_configured",
            f'The flow "{name}" of chatbot "{chatbot.chatbot_id}" has no knowledge-base index; '
            "set one in the chatbot's settings first.",
        )
    return index_name


def vector_store_for(
    *, chatbot: ChatbotSettings, index_name: str, namespace: str | None = None
) -> VectorStore:
    """The store of one of the chatbot's configured indexes, in the chatbot's own namespace, or
    in `namespace` (from the flow's `IndexLayout`; "" is the default one) on Pinecone.

    Refuses an index name that none of the chatbot's flows configures.
    """
    if not index_name or index_name not in chatbot.flow_indexes().values():
        raise ApplicationError(
            "flow_index_not_configured",
            f'The index "{index_name}" is not configured for chatbot "{chatbot.chatbot_id}".',
        )
    return _store(chatbot=chatbot, index_name=index_name, namespace=namespace)


def document_previous_store(*, document: KnowledgeDocument) -> VectorStore | None:
    """The store holding the document's vectors from its last ingestion, if any.

    `indexed_in` was taken from the chatbot's settings when the document was ingested; the flow
    may have been pointed at another index since, and the old vectors must still be found.
    """
    if not document.indexed_in:
        return None
    layout = flow_layout(document.chatbot, document.flow)
    return _store(chatbot=document.chatbot, index_name=document.indexed_in, namespace=layout.namespace)


def flow_layout(chatbot: ChatbotSettings, flow_name: str) -> IndexLayout:
    """The layout of a flow's index when only its name is at hand (ingestion, deletion)."""
    return index_layout(chatbot, chatbot.flows.filter(name=flow_name).first())


def _store(*, chatbot: ChatbotSettings, index_name: str, namespace: str | None = None) -> VectorStore:
    if chatbot.uses_pinecone:
        # The Pinecone SDK is heavy to import; chatbots on the local store never need it.
        from chatplatform.vectorstores.pinecone import PineconeVectorStore

        namespace = index_layout(chatbot).namespace if namespace is None else namespace
        return PineconeVectorStore(
            api_key=chatbot.pinecone_api_key,
            index_name=index_name,
            namespace=namespace,
            default_namespace=namespace == "",
            controller_host=settings.PINECONE_CONTROLLER_HOST,
            timeout=settings.PINECONE_TIMEOUT_SECONDS,
        )
    from chatplatform.vectorstores.local import LocalVectorStore

    return LocalVectorStore(index_name=index_name, namespace=chatbot.chatbot_id)
