"""How the integration key appears in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ChatbotAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "conversations.auth.ChatbotAPIKeyAuthentication"
    name = "ChatbotApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A chatbot's integration key, sent as `Authorization: Api-Key <key>`.",
        }
