"""The chatbot settings a chat connection starts from, kept in this process between connections.

Every websocket connection needs its chatbot, the chatbot's flows and whether it tracks orders:
two queries and about 2 ms of ORM work on the one thread that Django and Channels share, which a
burst of new visitors queues on. The settings change only when staff edit them, so this process
keeps what it read. Every save or delete of a chatbot, a flow or a commerce integration (admin
included, `conversations.signals`) publishes a new version in the cache; this process compares
its version with the cache's at most every `CHATBOT_CONFIG_RECHECK_SECONDS` and forgets every
chatbot when they differ. An edit saved in this process takes effect at once, one saved in
another within that time. Without a shared cache (the local-memory one of `make run`) the version
is read from the three tables instead (row counts and latest `updated_at`), so that an edit made
by another process, a management command say, is seen too. Connections already open keep the
settings they started with.
"""

import functools
import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef

from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings, Flow

if TYPE_CHECKING:
    from conversations.flow_router import FlowProfiles

logger = logging.getLogger(__name__)

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
        from conversations.flow_router import flow_profiles

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
    _publish_version()
    # Also after the commit: a process that read the version between the two reads the rows
    # as they were before the commit, so it must see a newer version once they are committed.
    transaction.on_commit(_publish_version)


def chatbot_configs_clear() -> None:
    """Forget what this process read; as after a restart."""
    with _known.lock:
        _known.configs = OrderedDict()
        _known.version = None
        _known.checked_at = float("-inf")


def chatbot_not_found(chatbot_id: str) -> ApplicationError:
    return ApplicationError("chatbot_not_found", f"There is no chatbot '{chatbot_id}'.", status_code=404)


def _recheck() -> None:
    now = time.monotonic()
    if now - _known.checked_at < settings.CHATBOT_CONFIG_RECHECK_SECONDS:
        return
    # Read before the rows: an edit committed in between publishes a newer version, so what is
    # read now is at worst read again at the next check, never kept stale.
    version = _cached_version()
    with _known.lock:
        if version is None or version != _known.version:
            _known.configs = OrderedDict()
        _known.version = version
        _known.checked_at = now


def _cached_version() -> str | None:
    if isinstance(caches["default"], LocMemCache | DummyCache):
        # This process's own cache: another process (a management command, a second server)
        # would publish its changes where this one never looks, so the tables tell instead.
        return _table_version()
    try:
        version = cache.get(_VERSION_KEY)
        if version is None:
            cache.add(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(_VERSION_KEY)
    except Exception as exc:  # no shared cache: read the settings again at every check
        logger.warning("Chatbot settings: could not read their version from the cache: %s", exc)
        return None
    return version


def _table_version() -> str:
    from tracking.models import CommerceIntegration

    # Every save moves the latest `updated_at` forward and every delete lowers the count.
    parts = []
    for model in (ChatbotSettings, Flow, CommerceIntegration):
        state = model.objects.aggregate(rows=Count("pk"), latest=Max("updated_at"))
        parts.append(f"{state['rows']}:{state['latest'].isoformat() if state['latest'] else ''}")
    return "|".join(parts)


def _publish_version() -> None:
    try:
        cache.set(_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:  # other processes read again when the version disappears from the cache
        logger.warning("Chatbot settings: could not publish a change: %s", exc)


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
