from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "conversations"

    def ready(self) -> None:
        from conversations import (  # noqa: F401  (registration on import)
            schema,
            signals,
        )
        from conversations.chat import health_facts

        health_facts.register()
