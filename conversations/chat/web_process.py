"""This web process as the answer sweeper sees it: an id, a heartbeat while it answers, and a
graceful stop.

Every answer records its owner (`process_id()`) with its question. While the process has answers
in flight it refreshes its `WebProcessHeartbeat` row every `HEARTBEAT_SECONDS`; the sweeper
(`answer_sweeper`) takes an owner silent for `OWNER_GONE_AFTER_SECONDS` for dead, and its
streaming answers for interrupted. On SIGTERM (or SIGINT) under daphne, the answers in flight get
`settings.CHAT_SHUTDOWN_GRACE_SECONDS` to finish before the server stops, and are saved with what
they have after that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable

from channels.db import database_sync_to_async
from django.utils import timezone

from chatplatform.event_loops import PerLoop
from conversations.chat.models import WebProcessHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
# Several missed beats (a busy database, a long pause of the process) are not a death.
OWNER_GONE_AFTER_SECONDS = 60.0

_process_id: tuple[int, str] | None = None


def process_id() -> str:
    """hostname:pid:boot id, unique across restarts and forks; a constant of plain characters
    (it is written as a literal of the question's INSERT, `writes.questions_insert`)."""
    global _process_id
    pid = os.getpid()
    if _process_id is None or _process_id[0] != pid:
        host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:60]
        _process_id = (pid, f"{host}:{pid}:{uuid.uuid4().hex[:12]}")
    return _process_id[1]


@database_sync_to_async
def _beat() -> None:
    WebProcessHeartbeat.objects.update_or_create(
        process_id=process_id(), defaults={"beat_at": timezone.now()}
    )


class _Heartbeat:
    """Beats while `busy()` holds, then stops until the next answer starts it again."""

    def __init__(self) -> None:
        self._task: asyncio.Task | None = None

    def keep(self, busy: Callable[[], bool]) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(busy), name="heartbeat")

    async def _run(self, busy: Callable[[], bool]) -> None:
        while True:
            try:
                await _beat()
            except Exception as exc:
                # The sweeper waits OWNER_GONE_AFTER_SECONDS: the next beats can make up for it.
                logger.warning("Could not record this process's heartbeat: %s", exc)
            await asyncio.sleep(HEARTBEAT_SECONDS)
            if not busy():
                return


_heartbeat = PerLoop(_Heartbeat).get


def heartbeat_keep(busy: Callable[[], bool]) -> None:
    """Keep this process's heartbeat fresh while `busy()` (answers are in flight)."""
    _heartbeat().keep(busy)


_shutdown_hooked = False


def on_server_shutdown(drain: Callable[[], Awaitable[None]]) -> None:
    """Under daphne, make the server wait for `drain()` before it stops (SIGTERM, SIGINT).

    Daphne runs on Twisted's asyncio reactor; a "before shutdown" trigger that returns a
    Deferred holds the shutdown until it fires, while the event loop keeps running. Elsewhere
    (tests, the runserver of channels) this does nothing.
    """
    global _shutdown_hooked
    reactor = sys.modules.get("twisted.internet.reactor")
    if _shutdown_hooked or reactor is None or not getattr(reactor, "running", False):
        return
    from twisted.internet.defer import Deferred

    def before_shutdown() -> Deferred:
        logger.info("Stopping: letting the answers in flight finish")
        deferred = Deferred.fromFuture(asyncio.ensure_future(drain()))
        deferred.addErrback(lambda failure: logger.error("Drain failed: %s", failure.getErrorMessage()))
        return deferred

    reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)
    _shutdown_hooked = True
