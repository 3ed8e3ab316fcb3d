"""What this app adds to the platform's background jobs (found by chatplatform.jobs' autodiscovery):
the `knowledge_reindex` kind, the retention cleaner of expired images, and the integration keys
that may use the jobs API for their own chatbot."""

from datetime import datetime

from chatplatform.jobs.access import register_integration_auth
from chatplatform.retention import register_cleaner
from conversations.auth import ChatbotAPIKeyAuthentication
from conversations.images.services import images_delete_expired
from conversations.knowledge import jobs as knowledge_jobs  # noqa: F401  (registers its kind)


def expired_images_delete(older_than: datetime) -> int:
    # Images keep their own retention, IMAGE_RETENTION_DAYS, whatever RETENTION_DAYS says.
    return images_delete_expired()


register_cleaner("images (IMAGE_RETENTION_DAYS)", expired_images_delete)
register_integration_auth(
    ChatbotAPIKeyAuthentication,
    chatbot_of=lambda api_key: api_key.chatbot.chatbot_id,
    name_of=lambda api_key: f"API key {api_key.name}",
)
