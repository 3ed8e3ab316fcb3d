"""The columns of chatbot settings files (JSON, CSV and the old platform's SQL), shared by the
readers of each format.
"""

SEED_COLUMNS = [
    "chatbot_id",
    "pinecone_api_key",
    "knowledgebase_index_endpoint",
    "flow2_knowledgebase_index",
    "flow3_knowledgebase_index",
    "flow4_knowledgebase_index",
    "apiflow_knowledgebase_index",
    "updated_at",
]
EXTRA_COLUMNS = [
    "name",
    "language",
    "is_active",
    "allowed_origins",
    "system_prompt",
    "topics",
    "replace_exclamation_marks",
    # How the chatbot's existing indexes are laid out (`conversations/knowledge/layouts.py`).
    "pinecone_namespace",
    "metadata_text_field",
    "metadata_title_field",
    "metadata_source_field",
    "embedding_model",
]
COLUMNS = SEED_COLUMNS + EXTRA_COLUMNS
SECRET_COLUMNS = {"pinecone_api_key"}
LIST_COLUMNS = {"allowed_origins", "topics"}
BOOLEAN_COLUMNS = {"is_active", "replace_exclamation_marks"}
# Set by the platform, accepted in files for compatibility with the old table, never imported.
IGNORED_COLUMNS = {"updated_at"}
# Stored NULL (the chatbot's id) or "" (the index's default namespace): files write `__default__`.
NAMESPACE_COLUMNS = {"pinecone_namespace"}
# In CSV cells, list items are separated by this character.
CSV_LIST_SEPARATOR = "|"
# A row may name the only columns that update a chatbot that exists already (SQL's
# `ON CONFLICT ... DO UPDATE SET`); the others then apply to new chatbots only.
UPDATE_ONLY_KEY = "__update_only__"

TRUE_WORDS = {"true", "1", "yes", "y", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "off", ""}


class ImportFileError(Exception):
    """The file as a whole cannot be read (unknown format, broken JSON or CSV)."""
