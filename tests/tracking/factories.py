import json
from typing import Any

import factory

from tests.conversations.factories import ChatbotFactory
from tracking.models import CommerceIntegration


class CommerceIntegrationFactory(factory.django.DjangoModelFactory):
    """A chatbot's Shopify integration with a stored access token unless told otherwise.

    `credentials` is given as a dict and stored as the JSON text the model holds.
    """

    class Meta:
        model = CommerceIntegration

    chatbot = factory.SubFactory(ChatbotFactory)
    kind = CommerceIntegration.Kind.SHOPIFY
    base_url = "https://nordic-vin.myshopify.com"
    credentials = factory.LazyFunction(lambda: {"access_token": "shpat_factory_0123456789abcdef"})
    options = factory.LazyFunction(dict)
    carrier_tracking_urls = factory.LazyFunction(dict)

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> CommerceIntegration:
        if isinstance(kwargs.get("credentials"), dict):
            kwargs["credentials"] = json.dumps(kwargs["credentials"])
        instance = super()._create(model_class, *args, **kwargs)
        # Read back, so tests see what the app sees: credentials decrypted from the database.
        return model_class.objects.select_related("chatbot").get(pk=instance.pk)

    @classmethod
    def _build(cls, model_class: type, *args: Any, **kwargs: Any) -> CommerceIntegration:
        if isinstance(kwargs.get("credentials"), dict):
            kwargs["credentials"] = json.dumps(kwargs["credentials"])
        return super()._build(model_class, *args, **kwargs)


def shopify_integration(server: Any, **fields: Any) -> CommerceIntegration:
    """A saved Shopify integration pointing at the fake server, with its access token."""
    fields.setdefault("credentials", {"access_token": server.access_token})
    fields.setdefault("carrier_tracking_urls", {"GLS": "https://gls.example/track/{tracking_number}"})
    return CommerceIntegrationFactory(kind="shopify", base_url=server.base_url, **fields)


def magento_integration(server: Any, *, auth_mode: str = "oauth1", **fields: Any) -> CommerceIntegration:
    """A saved Magento 2 integration pointing at the fake server, signed as `auth_mode` says."""
    if auth_mode == "bearer":
        fields.setdefault("credentials", {"bearer_token": server.bearer_token})
    else:
        fields.setdefault("credentials", server.oauth_credentials)
    fields.setdefault("options", {"auth_mode": auth_mode})
    fields.setdefault(
        "carrier_tracking_urls", {"Byens Bud": "https://byensbud.example/spor/{tracking_number}"}
    )
    return CommerceIntegrationFactory(kind="magento2", base_url=server.base_url, **fields)
