import copy
import json
from functools import cache
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.forms.models import construct_instance

from chatplatform.admin_forms import SecretReplaceField, secret_hint
from tracking.clients.config import integration_credentials
from tracking.clients.registry import credential_keys, integration_check, integration_validate, option_keys
from tracking.models import CommerceIntegration, OrderLookup

MODEL_FIELDS = [
    "base_url",
    "api_version",
    "store_code",
    "project_key",
    "region",
    "options",
    "carrier_tracking_urls",
    "order_number_format",
]


@cache
def credential_names() -> dict[str, list[str]]:
    """Every credential name a client declares, with the kinds that use it (in kind order)."""
    names: dict[str, list[str]] = {}
    for kind in CommerceIntegration.Kind:
        for name in credential_keys(kind):
            names.setdefault(name, []).append(kind.value)
    return names


def options_help() -> str:
    parts = [
        f"{kind.label}: " + "; ".join(f"{name}: {meaning}" for name, meaning in keys.items())
        for kind in CommerceIntegration.Kind
        if (keys := option_keys(kind))
    ]
    return "A JSON object of non-secret settings. " + (" | ".join(parts) or "No kind reads options.")


class CommerceIntegrationForm(forms.ModelForm):
    """Edits an integration without ever sending a stored secret to the browser.

    Each credential name gets a `new_<name>` password field that replaces just that secret when
    filled; `credentials_json` replaces them all at once (for names a client does not declare);
    `clear_credentials` removes the stored ones first. The result is validated by the kind's
    client, and its errors are shown on the fields they concern.
    """

    # Without a scheme, staff mean https (and Django 6 will assume so too).
    base_url = forms.URLField(
        max_length=300,
        assume_scheme="https",
        help_text=CommerceIntegration._meta.get_field("base_url").help_text,
    )
    clear_credentials = forms.BooleanField(
        required=False, label="Remove the stored credentials (then apply any new values below)"
    )
    credentials_json = SecretReplaceField(
        label="Replace all credentials",
        help_text='A JSON object, e.g. {"api_key": "..."}; leave empty to keep the stored ones.',
    )

    class Meta:
        model = CommerceIntegration
        fields = ["chatbot", "kind", "is_enabled", *MODEL_FIELDS]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "options" in self.fields:
            self.fields["options"].help_text = options_help()
        self._credentials: dict[str, str] | None = None

    def clean_options(self) -> Any:
        # An emptied JSON box means "none", not NULL (the column is NOT NULL).
        value = self.cleaned_data.get("options")
        return {} if value is None else value

    def clean_carrier_tracking_urls(self) -> Any:
        value = self.cleaned_data.get("carrier_tracking_urls")
        return {} if value is None else value

    def clean_credentials_json(self) -> dict[str, str] | None:
        raw = self.cleaned_data.get("credentials_json")
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise forms.ValidationError("Enter a JSON object.") from None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError("Enter a JSON object of text values.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._credentials = self._merged_credentials(cleaned)
        if self.errors or not cleaned.get("kind"):
            return cleaned
        candidate = construct_instance(self, copy.copy(self.instance), fields=self._meta.fields)
        candidate.credentials = json.dumps(self._credentials) if self._credentials else ""
        for field, problems in integration_validate(candidate).items():
            target = self._field_for(field)
            for problem in problems:
                self.add_error(target, problem if target else f"{field}: {problem}")
        return cleaned

    def save(self, commit: bool = True) -> CommerceIntegration:
        if self._credentials is not None:
            self.instance.credentials = (
                json.dumps(self._credentials, sort_keys=True) if self._credentials else ""
            )
        return super().save(commit=commit)

    def _merged_credentials(self, cleaned: dict[str, Any]) -> dict[str, str]:
        try:
            stored = {} if cleaned.get("clear_credentials") else integration_credentials(self.instance)
        except ValueError:
            stored = {}  # unreadable JSON: only new values can repair it
        if cleaned.get("credentials_json"):
            stored = dict(cleaned["credentials_json"])
        for name in credential_names():
            if cleaned.get(f"new_{name}"):
                stored[name] = cleaned[f"new_{name}"]
        return stored

    def _field_for(self, name: str) -> str | None:
        for candidate in (name, f"new_{name}", f"new_{name.removeprefix('credentials.')}"):
            if candidate in self.fields:
                return candidate
        return "credentials_json" if name == "credentials" else None


@cache
def integration_form() -> type[CommerceIntegrationForm]:
    """The form with one replace field per declared credential name (built once, on first use)."""
    fields = {
        f"new_{name}": SecretReplaceField(label=f"New {name.replace('_', ' ')} [{', '.join(kinds)}]")
        for name, kinds in credential_names().items()
    }
    return type("CommerceIntegrationForm", (CommerceIntegrationForm,), fields)


@admin.register(CommerceIntegration)
class CommerceIntegrationAdmin(admin.ModelAdmin):
    form = CommerceIntegrationForm
    list_display = ["chatbot", "kind", "is_enabled", "base_url", "updated_at"]
    list_filter = ["kind", "is_enabled"]
    list_select_related = ["chatbot"]
    search_fields = ["chatbot__chatbot_id", "base_url"]
    autocomplete_fields = ["chatbot"]
    readonly_fields = ["stored_credentials", "updated_at"]
    actions = ["test_connection"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = integration_form()
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        secret_fields = [f"new_{name}" for name in credential_names()]
        return [
            (None, {"fields": ["chatbot", "kind", "is_enabled"]}),
            ("Connection", {"fields": MODEL_FIELDS[:5]}),
            (
                "Credentials",
                {
                    "fields": ["stored_credentials", *secret_fields, "credentials_json", "clear_credentials"],
                    "description": "Stored encrypted and never shown again; fill a field only to replace "
                    "that secret. Each label names the kinds that use it.",
                },
            ),
            ("Settings", {"fields": MODEL_FIELDS[5:]}),
            ("History", {"fields": ["updated_at"]}),
        ]

    @admin.display(description="Stored credentials")
    def stored_credentials(self, obj: CommerceIntegration) -> str:
        try:
            stored = integration_credentials(obj)
        except ValueError:
            return "unreadable (not a JSON object); replace them"
        if not stored:
            return "none"
        return "; ".join(f"{name}: {secret_hint(value)}" for name, value in sorted(stored.items()))

    @admin.action(description="Test connection")
    def test_connection(self, request, queryset):
        for integration in queryset.select_related("chatbot"):
            ok, reason = integration_check(integration)
            label = f"{integration.chatbot.chatbot_id} ({integration.get_kind_display()})"
            self.message_user(request, f"{label}: {reason}", messages.SUCCESS if ok else messages.ERROR)


@admin.register(OrderLookup)
class OrderLookupAdmin(admin.ModelAdmin):
    """The order lookup log, read-only: rows are written by the lookup service alone."""

    list_display = ["created_at", "chatbot", "channel", "order_hint", "outcome", "verified_by", "duration_ms"]
    list_filter = ["chatbot", "outcome", "channel"]
    list_select_related = ["chatbot"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "chatbot",
        "conversation",
        "channel",
        "order_hint",
        "verified_by",
        "outcome",
        "error_code",
        "duration_ms",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
