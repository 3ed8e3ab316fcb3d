from conversations.knowledge.tasks import ingest_document  # noqa: F401
