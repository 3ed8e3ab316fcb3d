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
"""

import gc
import importlib
import threading
import time

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
    "conversations.chat.tasks",
    "celery.app.amqp",
    "celery.contrib.django.task",
    "kombu.transport.redis",
    # The PostgreSQL connection pool.
    "psycopg_pool",
)

FULL_AFTER_MIDDLE = 1000
IDLE_CHECK_SECONDS = 0.5
IDLE_CPU_SHARE = 0.05

_collector: threading.Thread | None = None


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


def full_collection_due(*, cpu_seconds: float, interval_seconds: float, middle_collections: int) -> bool:
    """Whether to collect everything now: the process was idle and something reached the oldest
    generation since its last collection."""
    return middle_collections > 0 and cpu_seconds < IDLE_CPU_SHARE * interval_seconds


def _collect_when_idle() -> None:
    cpu, at = time.process_time(), time.monotonic()
    while True:
        time.sleep(IDLE_CHECK_SECONDS)
        now_cpu, now = time.process_time(), time.monotonic()
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
