from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings


def chatbot_not_found(chatbot_id: str) -> ApplicationError:
    return ApplicationError("chatbot_not_found", f"There is no chatbot '{chatbot_id}'.", status_code=404)


def chatbot_get(*, chatbot_id: str) -> ChatbotSettings:
    """The chatbot with this id, active or not, or a 404 `chatbot_not_found` error."""
    try:
        return ChatbotSettings.objects.get(chatbot_id=chatbot_id)
    except ChatbotSettings.DoesNotExist:
        raise chatbot_not_found(chatbot_id) from None


def chatbot_active_get(*, chatbot_id: str) -> ChatbotSettings:
    """The active chatbot with this id; an inactive one is `chatbot_not_found` like a missing one."""
    try:
        return ChatbotSettings.objects.get(chatbot_id=chatbot_id, is_active=True)
    except ChatbotSettings.DoesNotExist:
        raise chatbot_not_found(chatbot_id) from None
