"""Commerce integrations for the client tests, saved and read back as the app reads them."""

import json
from typing import Any

from tests.conversations.factories import ChatbotFactory
from tracking.clients.base import OrderClientError
from tracking.models import CommerceIntegration

# Small enough that retry and timeout tests take a fraction of a second.
FAST = {"timeout": 0.5, "budget": 3.0, "backoff": 0.01}


def integration(
    kind: str,
    *,
    base_url: str,
    credentials: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    save: bool = True,
    **fields: Any,
) -> CommerceIntegration:
    """An integration; saved ones come back from the database (credentials decrypted there)."""
    instance = CommerceIntegration(
        kind=kind,
        base_url=base_url,
        credentials=json.dumps(credentials or {}),
        options=options or {},
        **fields,
    )
    if not save:
        return instance
    instance.chatbot = ChatbotFactory()
    instance.save()
    return CommerceIntegration.objects.select_related("chatbot").get(pk=instance.pk)


def assert_no_secret(error: OrderClientError, *secrets: str) -> None:
    text = f"{error} {error.message!r} {error.args!r}"
    for secret in secrets:
        assert secret not in text
