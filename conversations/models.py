import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from chatplatform.fields import EncryptedTextField
from conversations.knowledge.layout_fields import (
    DEFAULT_SOURCE_FIELD,
    DEFAULT_TEXT_FIELD,
    DEFAULT_TITLE_FIELD,
    validate_embedding_model,
)
from conversations.prompt_rules import Purpose, prompt_template_validate

chatbot_id_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Use 1-64 lowercase letters, digits and hyphens, not starting or ending with a hyphen.",
)
index_name_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?$",
    "Index names use 1-45 lowercase letters, digits and hyphens (Pinecone's rule).",
)

# The flows of every chatbot, each with the settings column that names its knowledge-base index.
FLOW_INDEX_FIELDS = {
    "default": "knowledgebase_index_endpoint",
    "flow2": "flow2_knowledgebase_index",
    "flow3": "flow3_knowledgebase_index",
    "flow4": "flow4_knowledgebase_index",
    "apiflow": "apiflow_knowledgebase_index",
}


class ChatbotSettings(models.Model):
    """One shop's chatbot, as staff configure it. The table keeps the old platform's name."""

    chatbot_id = models.SlugField(
        max_length=64, unique=True, validators=[chatbot_id_validator], help_text="Stable id used in URLs."
    )
    name = models.CharField(max_length=120)
    language = models.CharField(max_length=8, default="da", help_text="Answer language, e.g. da or en.")
    is_active = models.BooleanField(default=True)
    allowed_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Website origins allowed to open the chat, e.g. https://shop.example. "
        "Empty: only the platform's own host.",
    )
    system_prompt = models.TextField(blank=True)
    topics = models.JSONField(default=list, blank=True, help_text="Topics used by analytics.")
    replace_exclamation_marks = models.BooleanField(
        default=False, help_text="Replace '!' with '.' in answers."
    )

    class RouterMode(models.TextChoices):
        LOCAL = "local", "Local (similarity to flow descriptions and examples)"
        LLM = "llm", "LLM (falls back to local on any error)"

    router_mode = models.CharField(max_length=8, choices=RouterMode.choices, default=RouterMode.LOCAL)
    retrieval_top_k = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(20)], help_text="Chunks per answer."
    )
    retrieval_min_score = models.FloatField(
        default=0.1,
        validators=[MinValueValidator(-1.0), MaxValueValidator(1.0)],
        help_text="Chunks scoring below this similarity are not used.",
    )
    history_token_budget = models.PositiveIntegerField(
        default=1500, help_text="Tokens of earlier conversation sent with each question."
    )
    max_answer_tokens = models.PositiveIntegerField(default=600, validators=[MaxValueValidator(4000)])

    pinecone_api_key = EncryptedTextField(blank=True)
    knowledgebase_index_endpoint = models.CharField(
        max_length=45, blank=True, validators=[index_name_validator]
    )
    flow2_knowledgebase_index = models.CharField(max_length=45, blank=True, validators=[index_name_validator])
    flow3_knowledgebase_index = models.CharField(max_length=45, blank=True, validators=[index_name_validator])
    flow4_knowledgebase_index = models.CharField(max_length=45, blank=True, validators=[index_name_validator])
    apiflow_knowledgebase_index = models.CharField(
        max_length=45, blank=True, validators=[index_name_validator]
    )
    # How the indexes are laid out, for indexes another system wrote (`knowledge/layouts.py`).
    # NULL (the chatbot's id) and "" (the index's default namespace) are two different places.
    pinecone_namespace = models.CharField(  # noqa: DJ001
        max_length=255,
        null=True,
        blank=True,
        help_text="Pinecone namespace of the records. Empty: the chatbot's id; __default__: the "
        "index's default namespace.",
    )
    metadata_text_field = models.CharField(
        max_length=64,
        default=DEFAULT_TEXT_FIELD,
        blank=True,
        help_text="Metadata field holding the passage text (empty: text).",
    )
    metadata_title_field = models.CharField(
        max_length=64,
        default=DEFAULT_TITLE_FIELD,
        blank=True,
        help_text="Metadata field holding the passage's title (empty: none).",
    )
    metadata_source_field = models.CharField(
        max_length=64,
        default=DEFAULT_SOURCE_FIELD,
        blank=True,
        help_text="Metadata field holding the source page's URL (empty: none).",
    )
    embedding_model = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_embedding_model],
        help_text="Model the indexes were built with, e.g. text-embedding-ada-002 or "
        "text-embedding-3-large@1024. Empty: the platform's embedding model.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "chatbot_settings"
        ordering = ["chatbot_id"]
        verbose_name = "chatbot"

    def __str__(self) -> str:
        return f"{self.name} ({self.chatbot_id})"

    @property
    def uses_pinecone(self) -> bool:
        """A chatbot without a Pinecone key uses the local vector store."""
        return bool(self.pinecone_api_key)

    def flow_indexes(self) -> dict[str, str]:
        """Flow name to the index configured for it (empty string when unset)."""
        return {flow: getattr(self, field) for flow, field in FLOW_INDEX_FIELDS.items()}


class ChatbotAPIKey(AbstractAPIKey):
    """An integration key that grants access to one chatbot only. Stored hashed."""

    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="api_keys")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "integration API key"
        verbose_name_plural = "integration API keys"


class Flow(models.Model):
    """One of a chatbot's five flows; the router picks one per message."""

    class Name(models.TextChoices):
        DEFAULT = "default", "General"
        FLOW2 = "flow2", "Flow 2"
        FLOW3 = "flow3", "Flow 3"
        FLOW4 = "flow4", "Flow 4"
        APIFLOW = "apiflow", "Order tracking"

    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=16, choices=Name.choices)
    title = models.CharField(max_length=80, blank=True)
    description = models.TextField(blank=True, help_text="What this flow answers; the router reads it.")
    example_questions = models.JSONField(default=list, blank=True)
    is_enabled = models.BooleanField(default=True)
    # Overrides of the chatbot's index layout for this flow's index; empty: the chatbot's.
    pinecone_namespace = models.CharField(  # noqa: DJ001  (NULL: the chatbot's; "": the default)
        max_length=255,
        null=True,
        blank=True,
        help_text="Empty: the chatbot's namespace; __default__: the index's default namespace.",
    )
    metadata_text_field = models.CharField(max_length=64, blank=True)
    metadata_title_field = models.CharField(max_length=64, blank=True)
    metadata_source_field = models.CharField(max_length=64, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True, validators=[validate_embedding_model])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chatbot", "name"], name="flow_unique_per_chatbot")]
        ordering = ["chatbot", "name"]

    def __str__(self) -> str:
        return f"{self.chatbot.chatbot_id}/{self.name}"

    @property
    def index_name(self) -> str:
        return getattr(self.chatbot, FLOW_INDEX_FIELDS[self.name])


class PromptTemplate(models.Model):
    """A staff-edited prompt; without one, the shipped default of its purpose is used."""

    Purpose = Purpose

    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="prompt_templates")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    flow = models.CharField(
        max_length=16,
        choices=Flow.Name.choices,
        blank=True,
        help_text="Only for answer prompts; empty: all flows.",
    )
    template = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chatbot", "purpose", "flow"], name="prompt_unique_per_purpose")
        ]
        ordering = ["chatbot", "purpose", "flow"]

    def __str__(self) -> str:
        suffix = f"/{self.flow}" if self.flow else ""
        return f"{self.chatbot.chatbot_id}: {self.purpose}{suffix}"

    def clean(self) -> None:
        if self.flow and self.purpose != self.Purpose.ANSWER:
            raise ValidationError({"flow": "Only answer prompts are set per flow."})
        try:
            prompt_template_validate(purpose=self.purpose, text=self.template)
        except ValidationError as exc:
            raise ValidationError({"template": exc.messages}) from None


class KnowledgeDocument(models.Model):
    """A document in one flow's knowledge-base index, chunked and embedded by a background task."""

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="documents")
    flow = models.CharField(max_length=16, choices=Flow.Name.choices, default=Flow.Name.DEFAULT)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="kb/%Y/%m/", max_length=300)
    source_name = models.CharField(max_length=255, help_text="The uploaded file's name.")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the last ingestion done.")
    chunk_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # Where its vectors live now, so re-ingestion and deletion find them after settings change.
    indexed_in = models.CharField(max_length=45, blank=True)
    indexed_chunks = models.PositiveIntegerField(default=0)
    embedding_model = models.CharField(max_length=100, blank=True, help_text="Embedder of its vectors.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["chatbot", "flow", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["chatbot", "flow", "source_name"], name="document_unique_per_flow"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ImageUpload(models.Model):
    """An image a shopper sent: validated, re-encoded without metadata, described by the AI."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="images")
    conversation = models.ForeignKey(
        "Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    # Stored under a random name per chatbot; the uploaded name is never used.
    file = models.FileField(upload_to="images/", max_length=300)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="Bytes of the stored, re-encoded file.")
    frames = models.PositiveSmallIntegerField(default=1)
    description = models.TextField(blank=True)
    description_status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    description_error = models.CharField(max_length=64, blank=True)
    description_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.format} {self.width}x{self.height} ({self.chatbot.chatbot_id})"


# The chat engine's models live in its wing; imported here so that Django registers them with
# this app (label `conversations`, the same tables).
from conversations.chat.models import (  # noqa: E402
    ContextChunk,
    Conversation,
    Message,
    StreamingSession,
    WebProcessHeartbeat,
)

__all__ = [
    "ChatbotAPIKey",
    "ChatbotSettings",
    "ContextChunk",
    "Conversation",
    "Flow",
    "ImageUpload",
    "KnowledgeDocument",
    "Message",
    "PromptTemplate",
    "StreamingSession",
    "WebProcessHeartbeat",
]
