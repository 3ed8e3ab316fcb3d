from django.core.validators import RegexValidator
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from chatplatform.fields import EncryptedTextField

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
