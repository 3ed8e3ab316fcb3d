"""The knowledge base: documents of a chatbot's flows, chunked, embedded and stored as vectors.

`services` holds the write paths (upload, ingest, re-ingest, delete), `selectors` the reads,
`stores` picks the vector store of a chatbot's index, and `ingestion` runs the shared document
pipeline (`chatplatform.documents`) for one document; `api`, `admin`, `tasks` and the `ingest_kb`
command are thin adapters around them.
"""
