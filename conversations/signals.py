"""Cache invalidation that must follow every write path, admin included."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from conversations.models import PromptTemplate
from conversations.prompts import prompt_templates_invalidate


@receiver([post_save, post_delete], sender=PromptTemplate)
def _prompt_template_changed(sender, instance: PromptTemplate, **kwargs) -> None:
    prompt_templates_invalidate(chatbot_pk=instance.chatbot_id, purpose=instance.purpose)
