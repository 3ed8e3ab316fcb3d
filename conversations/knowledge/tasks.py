"""The ingestion task: takes a document id, calls the ingestion service, retries outages.

It imports `ingestion`, not `services`: the services queue this task, so the arrow runs one way.
"""

import logging

from celery import shared_task

from chatplatform.ai.base import ProviderError
from chatplatform.celery import TASK_RETRY_POLICY
from chatplatform.errors import ApplicationError
from chatplatform.vectorstores.base import VectorStoreError
from conversations.knowledge.ingestion import knowledge_document_ingest

logger = logging.getLogger(__name__)


# `task_routes` in chatplatform/celery.py sends this module's tasks to the `ingestion` queue.
# The service re-raises only transient store and provider errors (outages, timeouts, rate
# limits); permanent ones leave the document failed without a retry.
@shared_task(acks_late=True, autoretry_for=(VectorStoreError, ProviderError), **TASK_RETRY_POLICY)
def ingest_document(document_id: int) -> None:
    try:
        knowledge_document_ingest(document_id=document_id)
    except ApplicationError as exc:
        # Deleted before the worker got to it: nothing to do.
        logger.info("Knowledge document %s not ingested: %s", document_id, exc.message)
