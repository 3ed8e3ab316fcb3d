import factory

from conversations.models import ChatbotSettings


class ChatbotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChatbotSettings
        django_get_or_create = ("chatbot_id",)

    chatbot_id = factory.Sequence(lambda n: f"shop-{n}")
    name = factory.LazyAttribute(lambda bot: bot.chatbot_id.replace("-", " ").title())
    language = "da"
    knowledgebase_index_endpoint = factory.LazyAttribute(lambda bot: f"{bot.chatbot_id}-general")
    flow2_knowledgebase_index = factory.LazyAttribute(lambda bot: f"{bot.chatbot_id}-products")
    topics = factory.LazyFunction(lambda: ["Levering", "Returnering"])
