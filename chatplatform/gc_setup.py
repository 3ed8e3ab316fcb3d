"""The garbage collector of a web process, set up for streaming.

CPython's cyclic collector walks every tracked object of the generation it collects, and a full
collection walks everything that survived earlier ones. In a web process nearly all of those are
modules, classes and functions that live as long as the process; collecting them stalled every
stream for 60-85 ms at 100 concurrent answers (bench/HISTORY.md).

`gc.freeze()` moves everything that exists at that moment into a permanent generation that is
never walked. It covers only what exists when it runs, and answering the first question imports
several hundred modules on first use (the AI SDK with its API resources, types and HTTP stack,
Celery's task publisher, the database pool), so those are imported first.

The collection thresholds stay CPython's: a young threshold of 10,000 instead of 700 took less
than half the collector's time, but its young collections paused every stream for 2-5 ms and
its middle ones for up to 40 ms, which showed in the time to first token.

Full collections still walk what the process holds now: its open connections and the finished
answers it keeps for resuming, 20,000-60,000 objects at 100 concurrent answers, 40-75 ms during
which no stream moves. So they wait for a quiet moment: automatic full collections only happen
after `FULL_AFTER_MIDDLE` middle collections (a safety net under constant load), and a daemon
thread runs one whenever the process has used less than `IDLE_CPU_SHARE` of a core over the last
`IDLE_CHECK_SECONDS` and something has reached the oldest generation since the last one.

Automatic collections can also be held off for a moment (`collection_pause`): while answers that
arrived together prepare their provider requests, a collection would delay every one of those
requests by its pause; held off, it runs once they have left, while the provider prepares its
first token (conversations/request_gate.py). Only in a process set up here; the idle thread ends
a pause that outlives `PAUSE_LIMIT_SECONDS` (its holder's event loop ended without releasing it).
"""

import gc
import importlib
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# What the answer path imports on first use (tests/test_gc_setup.py checks it).
ANSWER_PATH_MODULES = (
    # The AI providers, the SDK's resources and types for the APIs they call, the HTTP stack.
    "chatplatform.ai.openai",
    "chatplatform.ai.local",
    "openai.resources.chat",
    "openai.resources.embeddings",
    "httpcore2._async.http11",
    "httpcore2._backends.anyio",
    "anyio._backends._asyncio",
    "truststore",
    # Retrieval from the local vector store.
    "chatplatform.vectorstores.local",
    # The background record of each answer: its task and Celery's publisher.
    "conversations.chat_tasks",
    "celery.app.amqp",
    "celery.contrib.django.task",
    "kombu.transport.redis",
    # The PostgreSQL connection pool.
    "psycopg_pool",
)

FULL_AFTER_MIDDLE = 1000
IDLE_CHECK_SECONDS = 0.5
IDLE_CPU_SHARE = 0.05
PAUSE_LIMIT_SECONDS = 1.0

_collector: threading.Thread | None = None
_set_up = False
_pause_lock = threading.Lock()
_pause_holders = 0
_pause_episode = 0
_paused_at: float | None = None


def gc_set_up() -> None:
    """Import the answer path's lazily loaded modules, collect what start-up left behind, and
    freeze every object that remains. Call once, when the process is set up to serve."""
    for name in ANSWER_PATH_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_AFTER_MIDDLE)
    _start_idle_collector()
    global _set_up  # once per process
    _set_up = True


def collection_pause() -> Callable[[], None]:
    """Hold automatic collections off until the returned function is called (calling it again
    does nothing). Pauses nest: collections resume when the last holder releases. A process not
    set up by `gc_set_up`, or whose collector is off already, is left as it is."""
    global _pause_holders, _paused_at
    if not _set_up:
        return _no_pause
    with _pause_lock:
        if _pause_holders == 0:
            if not gc.isenabled():
                return _no_pause
            gc.disable()
            _paused_at = time.monotonic()
        _pause_holders += 1
        episode = _pause_episode
    released = False

    def release() -> None:
        nonlocal released
        global _pause_holders
        if released:
            return
        released = True
        with _pause_lock:
            # A pause ended for being too long has no holders left to release.
            if episode == _pause_episode:
                _pause_holders -= 1
                if _pause_holders == 0:
                    _resume()

    return release


def _no_pause() -> None:
    pass


def _resume() -> None:
    """Under `_pause_lock`: end the pause, whoever still holds it, and collect again."""
    global _pause_holders, _pause_episode, _paused_at
    _pause_holders = 0
    _pause_episode += 1
    _paused_at = None
    gc.enable()


def end_overlong_pause(now: float) -> bool:
    """End a pause older than `PAUSE_LIMIT_SECONDS` at `now` (monotonic); whether one was."""
    with _pause_lock:
        if _paused_at is None or now - _paused_at <= PAUSE_LIMIT_SECONDS:
            return False
        _resume()
    logger.warning("Garbage collection was paused for over %s s; it runs again", PAUSE_LIMIT_SECONDS)
    return True


def full_collection_due(*, cpu_seconds: float, interval_seconds: float, middle_collections: int) -> bool:
    """Whether to collect everything now: the process was idle and something reached the oldest
    generation since its last collection."""
    return middle_collections > 0 and cpu_seconds < IDLE_CPU_SHARE * interval_seconds


def _collect_when_idle() -> None:
    cpu, at = time.process_time(), time.monotonic()
    while True:
        time.sleep(IDLE_CHECK_SECONDS)
        now_cpu, now = time.process_time(), time.monotonic()
        end_overlong_pause(now)
        if full_collection_due(
            cpu_seconds=now_cpu - cpu, interval_seconds=now - at, middle_collections=gc.get_count()[2]
        ):
            gc.collect()
            now_cpu = time.process_time()  # the collection's own CPU is not activity
        cpu, at = now_cpu, now


def _start_idle_collector() -> None:
    global _collector  # one per process
    if _collector is None or not _collector.is_alive():
        _collector = threading.Thread(target=_collect_when_idle, name="gc-when-idle", daemon=True)
        _collector.start()
