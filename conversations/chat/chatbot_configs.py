"""The chatbot settings a chat connection starts from, kept in this process between connections.

Reading them per connection would queue a burst of new visitors on Django's one shared sync
thread. Every save of a chatbot, flow or commerce integration publishes a new version in the
cache (`conversations.signals`); this process compares versions at most every
`CHATBOT_CONFIG_RECHECK_SECONDS` and forgets what it kept when they differ (without a shared cache
it reads the version from the tables). Open connections keep the settings they started with.
"""

import functools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef

from chatplatform.shared_versions import publish_change, shared_version
from conversations.models import ChatbotSettings, Flow
from conversations.selectors import chatbot_not_found

if TYPE_CHECKING:
    from conversations.chat.flow_router import FlowProfiles

_VERSION_KEY = "chatbot-configs:version"
# Chatbots kept per process, the least recently connected to forgotten first (one is a few
# dozen KiB, most of it the router's matrix).
MAX_KEPT = 1000


@dataclass(frozen=True)
class ChatbotConfig:
    """Shared by every connection of the chatbot: read it, never change it."""

    chatbot: ChatbotSettings
    flows: tuple[Flow, ...]
    order_tracking: bool

    @functools.cached_property
    def route_profiles(self) -> "FlowProfiles":
        """The router's view of the flows, worked out once for every connection."""
        from conversations.chat.flow_router import flow_profiles

        return flow_profiles(self.chatbot, list(self.flows), order_tracking=self.order_tracking)


class _Known:
    def __init__(self) -> None:
        self.configs: OrderedDict[str, ChatbotConfig] = OrderedDict()
        self.version: str | None = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()


_known = _Known()


def chatbot_config(*, chatbot_id: str) -> ChatbotConfig:
    """The active chatbot `chatbot_id` with its flows, or `chatbot_not_found`."""
    _recheck()
    with _known.lock:
        config = _known.configs.get(chatbot_id)
        if config is not None:
            _known.configs.move_to_end(chatbot_id)
            return config
    config = _read(chatbot_id)
    with _known.lock:
        _known.configs[chatbot_id] = config
        while len(_known.configs) > MAX_KEPT:
            _known.configs.popitem(last=False)
    return config


def chatbot_configs_changed() -> None:
    """A chatbot, flow or commerce integration was saved or deleted: every process reads its
    chatbots again (this one at once, the others within the recheck interval)."""
    chatbot_configs_clear()
    publish_change(_VERSION_KEY, what="Chatbot settings")


def chatbot_configs_clear() -> None:
    """Forget what this process read; as after a restart."""
    with _known.lock:
        _known.configs = OrderedDict()
        _known.version = None
        _known.checked_at = float("-inf")


def _recheck() -> None:
    now = time.monotonic()
    if now - _known.checked_at < settings.CHATBOT_CONFIG_RECHECK_SECONDS:
        return
    # Read before the rows: an edit committed in between publishes a newer version, so what is
    # read now is at worst read again at the next check, never kept stale.
    version = shared_version(_VERSION_KEY, rows=_tables, what="Chatbot settings")
    with _known.lock:
        if version is None or version != _known.version:
            _known.configs = OrderedDict()
        _known.version = version
        _known.checked_at = now


def _tables():
    from tracking.models import CommerceIntegration

    return [ChatbotSettings.objects.all(), Flow.objects.all(), CommerceIntegration.objects.all()]


def _read(chatbot_id: str) -> ChatbotConfig:
    from tracking.models import CommerceIntegration

    chatbot = (
        ChatbotSettings.objects.filter(chatbot_id=chatbot_id, is_active=True)
        .annotate(
            has_order_tracking=Exists(
                CommerceIntegration.objects.filter(chatbot=OuterRef("pk"), is_enabled=True)
            )
        )
        .prefetch_related("flows")
        .first()
    )
    if chatbot is None:
        raise chatbot_not_found(chatbot_id)
    return ChatbotConfig(chatbot, tuple(chatbot.flows.all()), chatbot.has_order_tracking)
