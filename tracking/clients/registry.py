"""Which client serves which integration kind, and the checks staff run on an integration.

Client modules are imported on first use: a worker that only talks to Shopify never imports the
others, and the admin can list every kind's credential names without building a client.
"""

from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

from tracking.clients.base import OrderClient, OrderClientError
from tracking.clients.config import checked_credentials, integration_credentials, safe_url
from tracking.models import CommerceIntegration

Kind = CommerceIntegration.Kind

KIND_CLIENTS: dict[str, str] = {
    Kind.SHOPIFY: "tracking.clients.shopify:ShopifyClient",
    Kind.MAGENTO2: "tracking.clients.magento2:Magento2Client",
    Kind.COMMERCETOOLS: "tracking.clients.commercetools:CommercetoolsClient",
    Kind.DISTRIBUTOR: "tracking.clients.distributor:DistributorClient",
    Kind.HTTP: "tracking.clients.http_api:HttpApiClient",
}

# Failures where the reader needs to know which address was tried.
_NETWORK_CODES = frozenset({"order_timeout", "order_unavailable", "order_rate_limited"})


def client_class(kind: str) -> type:
    """The client class for an integration kind; raises LookupError for an unknown kind."""
    try:
        module_name, class_name = KIND_CLIENTS[kind].split(":")
    except KeyError:
        raise LookupError(f"no commerce client for kind {kind!r}") from None
    return getattr(import_module(module_name), class_name)


def client_for(integration: CommerceIntegration, **overrides: Any) -> OrderClient:
    """A ready client for the integration; `overrides` tune its HTTP policy (timeout, budget, ...)."""
    return client_class(integration.kind).from_integration(integration, **overrides)


def credential_keys(kind: str) -> tuple[str, ...]:
    """The credential names a kind's client reads (empty when the client does not declare them)."""
    try:
        return tuple(getattr(client_class(kind), "credential_keys", ()))
    except (LookupError, ImportError, AttributeError):
        return ()


def option_keys(kind: str) -> dict[str, str]:
    """The option names a kind's client reads, with what each means."""
    try:
        return dict(getattr(client_class(kind), "option_keys", {}))
    except (LookupError, ImportError, AttributeError):
        return {}


def integration_validate(integration: CommerceIntegration) -> dict[str, list[str]]:
    """Field errors of an integration (empty when it is usable): shared rules, then the kind's."""
    errors: dict[str, list[str]] = {}
    checked_credentials(integration, errors)
    if not isinstance(integration.options, dict):
        errors["options"] = ["Options must be a JSON object."]
    errors |= _tracking_url_errors(integration.carrier_tracking_urls)
    if errors:
        return errors
    try:
        cls = client_class(integration.kind)
    except LookupError:
        return {"kind": [f"Unknown kind {integration.kind!r}."]}
    except ImportError:
        return {"kind": [f"The {integration.get_kind_display()} client is not installed."]}
    return {field: list(messages) for field, messages in cls.validate(integration).items() if messages}


def integration_check(integration: CommerceIntegration) -> tuple[bool, str]:
    """Connects with the integration's settings: (True, what was reached) or (False, why not).

    The reason is precise enough to fix the setting and never contains a secret.
    """
    errors = integration_validate(integration)
    if errors:
        details = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in sorted(errors.items()))
        return False, f"misconfigured: {details}"
    client = client_for(integration)
    try:
        return True, client.check_connection()
    except OrderClientError as exc:
        message = exc.message
        if exc.code in _NETWORK_CODES:
            message = f"could not reach {safe_url(integration.base_url)} ({_reason(exc)}): {exc.message}"
        return False, _redact(message, integration)
    finally:
        close = getattr(client, "close", None)
        if callable(close):
            close()


def _reason(exc: OrderClientError) -> str:
    return {"order_timeout": "timeout", "order_rate_limited": "rate limited"}.get(exc.code, "unavailable")


def _tracking_url_errors(templates: Any) -> dict[str, list[str]]:
    if not isinstance(templates, dict):
        return {"carrier_tracking_urls": ['Use a JSON object: {"carrier": "https://...{tracking_number}"}.']}
    problems = []
    for carrier, template in templates.items():
        if not isinstance(template, str) or "{tracking_number}" not in template:
            problems.append(f"{carrier}: the template needs {{tracking_number}}.")
        elif urlsplit(template).scheme not in {"http", "https"}:
            problems.append(f"{carrier}: the template must be an http(s) URL.")
    return {"carrier_tracking_urls": problems} if problems else {}


def _redact(message: str, integration: CommerceIntegration) -> str:
    # Client messages are written without secrets; this guards against a server echoing one back.
    try:
        secrets = integration_credentials(integration).values()
    except ValueError:
        return message
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        message = message.replace(secret, "••••••••")
    return message
