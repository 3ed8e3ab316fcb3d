"""What the analytics app hooks into, connected from AnalyticsConfig.ready(): the chat tells it
about recorded answers (`answers_recorded`) and hands it `rating` frames, and a saved chatbot
gets its topics from its `topics` list. The chat never imports this app."""

from django.db.models.signals import post_save

from analytics.models import ChatbotTopic
from analytics.ratings import rating_frame
from analytics.records import answers_metrics_record
from analytics.topic_words import topic_description
from conversations.chat.socket_extensions import frame_handler_register
from conversations.chat.tasks import answers_recorded
from conversations.models import ChatbotSettings


def on_answers_recorded(sender, *, answer_ids, **kwargs) -> None:
    answers_metrics_record(answer_ids)


def on_chatbot_saved(sender, instance: ChatbotSettings, raw=False, **kwargs) -> None:
    if not raw:
        chatbot_topics_seed(instance)


def chatbot_topics_seed(chatbot: ChatbotSettings) -> int:
    """Give a chatbot without topics those of its `topics` list (a loaded demo, an import);
    topics edited in admin are never touched again. Returns how many were made."""
    if ChatbotTopic.objects.filter(chatbot=chatbot).exists():
        return 0
    names = list(dict.fromkeys(str(name).strip()[:100] for name in chatbot.topics or [] if str(name).strip()))
    ChatbotTopic.objects.bulk_create(
        [
            ChatbotTopic(chatbot=chatbot, name=name, description=topic_description(name), position=i)
            for i, name in enumerate(names)
        ],
        ignore_conflicts=True,
    )
    return len(names)


def receivers_connect() -> None:
    answers_recorded.connect(on_answers_recorded, dispatch_uid="analytics.answers_metrics_record")
    post_save.connect(on_chatbot_saved, sender=ChatbotSettings, dispatch_uid="analytics.chatbot_topics_seed")
    frame_handler_register("rating", rating_frame)
