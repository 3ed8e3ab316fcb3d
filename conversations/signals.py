"""Cache invalidation that must follow every write path, admin included."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from conversations.chat.chatbot_configs import chatbot_configs_changed
from conversations.models import ChatbotSettings, Flow, PromptTemplate
from conversations.prompts import prompt_templates_invalidate


@receiver([post_save, post_delete], sender=PromptTemplate)
def _prompt_template_changed(sender, instance: PromptTemplate, **kwargs) -> None:
    prompt_templates_invalidate(chatbot_pk=instance.chatbot_id, purpose=instance.purpose)


@receiver([post_save, post_delete], sender=ChatbotSettings)
@receiver([post_save, post_delete], sender=Flow)
@receiver([post_save, post_delete], sender="tracking.CommerceIntegration")
def _chatbot_config_changed(sender, **kwargs) -> None:
    chatbot_configs_changed()
