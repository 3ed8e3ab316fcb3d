from django.core.exceptions import ValidationError
from django.db import models

from chatplatform.fields import EncryptedTextField
from conversations.models import ChatbotSettings
from tracking.order_numbers import OrderNumberFormatError, format_validate


def order_number_format_validator(value: str) -> None:
    try:
        format_validate(value)
    except OrderNumberFormatError as exc:
        raise ValidationError(str(exc), code="invalid_order_number_format") from exc


class CommerceIntegration(models.Model):
    """A chatbot's connection to its shop's order system."""

    class Kind(models.TextChoices):
        SHOPIFY = "shopify", "Shopify (GraphQL Admin API)"
        MAGENTO2 = "magento2", "Magento 2 (REST)"
        COMMERCETOOLS = "commercetools", "commercetools"
        DISTRIBUTOR = "distributor", "Distributor API (BevCo)"
        HTTP = "http", "Generic HTTP API"

    chatbot = models.OneToOneField(
        ChatbotSettings, on_delete=models.CASCADE, related_name="commerce_integration"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    is_enabled = models.BooleanField(default=True)
    base_url = models.URLField(max_length=300, help_text="e.g. https://shop.myshopify.com")
    api_version = models.CharField(max_length=32, blank=True, help_text="Shopify: e.g. 2025-07.")
    store_code = models.CharField(max_length=64, blank=True, help_text="Magento store code, e.g. default.")
    project_key = models.CharField(max_length=64, blank=True, help_text="commercetools project key.")
    region = models.CharField(
        max_length=64, blank=True, help_text="commercetools region, e.g. europe-west1.gcp."
    )
    # Secrets as one JSON object (names depend on the kind), encrypted at rest, masked in admin.
    credentials = EncryptedTextField(blank=True)
    # Non-secret settings of the kind: auth mode, generic HTTP request and field mapping, ...
    options = models.JSONField(default=dict, blank=True)
    carrier_tracking_urls = models.JSONField(
        default=dict,
        blank=True,
        help_text='Carrier name to a URL template with {tracking_number}, e.g. {"GLS": '
        '"https://gls-group.com/track/{tracking_number}"}; used when the API gives no URL.',
    )
    order_number_format = models.CharField(
        max_length=32,
        blank=True,
        validators=[order_number_format_validator],
        help_text="The shop's order numbers with # for each digit, e.g. NV-######: what a shopper "
        "writes (NV100234, 100 234) is turned into it before the lookup. Empty: as written.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "commerce integration"

    def __str__(self) -> str:
        return f"{self.chatbot.chatbot_id}: {self.get_kind_display()}"


class OrderLookup(models.Model):
    """One order lookup, for staff. No personal data: no email, postcode, IP or full number."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", "Found and verified"
        NOT_VERIFIED = "not_verified", "Not found, or details did not match"
        TOO_MANY_ATTEMPTS = "too_many_attempts", "Refused: too many failed attempts"
        ERROR = "error", "The shop's system failed"
        NO_INTEGRATION = "no_integration", "No commerce integration"

    chatbot = models.ForeignKey(ChatbotSettings, on_delete=models.CASCADE, related_name="order_lookups")
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, default="chat", help_text="chat or api")
    order_hint = models.CharField(max_length=32, help_text="The order number, masked.")
    verified_by = models.CharField(max_length=16, blank=True, help_text="email or postcode")
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.order_hint} {self.outcome}"
