"""Where a question enters the chat, from the websocket (`consumer`) or the REST API (`api`): one
set of rules for its text and client id, the image it attaches, and how often one may ask.

The edges keep only what is theirs: the socket's frames and its answer in progress, the REST
view's serializer (whose limits are these) and its status codes.
"""

from dataclasses import dataclass

from django.conf import settings

from chatplatform.errors import ApplicationError
from conversations.chat.rate_limits import RateLimiter, ip_rate_allows, ip_rate_allows_blocking
from conversations.chat.selectors import ChatState
from conversations.images.selectors import image_for_message
from conversations.models import ImageUpload

CLIENT_ID_MAX_CHARS = 64


@dataclass(frozen=True)
class Question:
    text: str
    client_id: str
    image_id: str | None = None


def question_read(*, text: object, client_id: object, image_id: object) -> Question:
    """The question as the pipeline takes it, or `empty_message`, `message_too_long` or
    `invalid_client_id` (400). Reads nothing: the socket calls it on the event loop."""
    if not isinstance(text, str) or not text.strip():
        raise ApplicationError("empty_message", "The message has no text.")
    if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
        raise ApplicationError(
            "message_too_long", f"A message may have at most {settings.CHAT_MAX_MESSAGE_CHARS} characters."
        )
    client_id = client_id or ""
    if not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX_CHARS:
        raise ApplicationError(
            "invalid_client_id", f"client_id must be a string of at most {CLIENT_ID_MAX_CHARS} characters."
        )
    has_image = image_id is not None and image_id != ""
    return Question(text=text.strip(), client_id=client_id, image_id=str(image_id) if has_image else None)


def question_image(*, state: ChatState, question: Question) -> ImageUpload | None:
    """The upload the question attaches, or `image_not_found` (404); None without one. Sync."""
    if question.image_id is None:
        return None
    return image_for_message(
        chatbot=state.chatbot, conversation_id=state.conversation_id, image_id=question.image_id
    )


def question_rate_allows(*, state: ChatState, limiter: RateLimiter | None = None) -> bool:
    """Whether one more question is within the limits: its connection's (`limiter`, websocket
    only) and its address's, which every web process and both edges share. Counts it if so.
    Call it from the event loop; it never waits."""
    if limiter is not None and not limiter.allows():
        return False
    return ip_rate_allows(state.client_ip)


def question_rate_allows_blocking(*, state: ChatState) -> bool:
    """`question_rate_allows` for the REST view, outside the event loop: the same address limit."""
    return ip_rate_allows_blocking(state.client_ip)


RATE_LIMITED = ("rate_limited", "Too many messages; please wait a minute.")
