"""The garbage collector of a web process, set up for streaming.

CPython's cyclic collector walks every tracked object of the generation it collects, and a full
collection walks everything that survived earlier ones. In a web process nearly all of those are
modules, classes and functions that live as long as the process; collecting them stalled every
stream for 60-85 ms at 100 concurrent answers (bench/README.md). Two settings help:

- `gc.freeze()` moves everything that exists at that moment into a permanent generation that is
  never walked. It covers only what exists when it runs, and answering the first question
  imports several hundred modules on first use (the AI SDK with its API resources, types and
  HTTP stack, Celery's task publisher, the database pool), so those are imported first.
- A young collection every 10,000 net allocations of tracked objects instead of 700: streaming
  allocates fast and almost everything it allocates dies young, by reference counting, so a
  higher threshold finds the same garbage with a third of the collector's time.
"""

import gc
import importlib

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
YOUNG_GENERATION_THRESHOLD = 10_000


def gc_set_up() -> None:
    """Import the answer path's lazily loaded modules, collect what start-up left behind, freeze
    every object that remains, and raise the young generation's threshold. Call once, when the
    process is set up to serve."""
    for name in ANSWER_PATH_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)
