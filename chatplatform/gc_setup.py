"""The garbage collector of the web process, set up when it starts serving (chatplatform/server.py).

A collection walks every tracked object of its generation, and in a web process nearly all of
them are modules, classes and functions that live as long as the process: walking them stalls
every stream. So start-up imports what answers would load on first use, then `gc.freeze()`s it
all, and full collections wait for a quiet moment (an idle daemon thread; automatic ones only
after `FULL_AFTER_MIDDLE` middle collections). Figures: bench/README.md.
"""

import gc
import importlib
import threading
import time

# What the answer path imports on first use (tests/chatplatform/test_gc_setup.py checks it).
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
    # Celery's publisher, for the background record of each answer.
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
