"""The five flows every chatbot has, with generic defaults that staff refine in admin."""

from dataclasses import dataclass

from django.db import transaction

from conversations.chat.chatbot_configs import chatbot_configs_changed
from conversations.models import ChatbotSettings, Flow


@dataclass(frozen=True)
class FlowSpec:
    title: str
    description: str
    examples: tuple[str, ...]


DEFAULT_FLOWS: dict[str, FlowSpec] = {
    Flow.Name.DEFAULT: FlowSpec(
        "General questions",
        "Shipping, delivery, returns, payment, the shop, opening hours and other general questions.",
        ("How much is shipping?", "Can I return an item?", "Which payment methods do you accept?"),
    ),
    Flow.Name.FLOW2: FlowSpec(
        "Products",
        "Questions about the products: what they are, which to choose, how to use or store them.",
        ("Which product do you recommend?", "What is the difference between these two?"),
    ),
    Flow.Name.FLOW3: FlowSpec("Advice", "Advice and inspiration around the products.", ()),
    Flow.Name.FLOW4: FlowSpec("Events and subscriptions", "Events, courses and subscriptions.", ()),
    Flow.Name.APIFLOW: FlowSpec(
        "Order tracking",
        "Where is my order, order status, delivery status and tracking of a placed order.",
        ("Where is my order?", "Has my order been shipped?", "Track order NV-100234"),
    ),
}


@transaction.atomic
def chatbot_flows_ensure(*, chatbot: ChatbotSettings, specs: dict[str, FlowSpec] | None = None) -> list[Flow]:
    """Create the chatbot's missing flows (from `specs`, else the defaults); keep existing ones."""
    specs = {**DEFAULT_FLOWS, **(specs or {})}
    existing = {flow.name for flow in chatbot.flows.all()}
    created = Flow.objects.bulk_create(
        Flow(
            chatbot=chatbot,
            name=name,
            title=spec.title,
            description=spec.description,
            example_questions=list(spec.examples),
        )
        for name, spec in specs.items()
        if name not in existing
    )
    if created:
        # bulk_create sends no post_save: chat connections must see the new flows all the same.
        chatbot_configs_changed()
    return list(chatbot.flows.all())
