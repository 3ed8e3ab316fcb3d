"""The garbage collector of a web process, set up for streaming.

CPython's cyclic collector walks every tracked object of the generation it collects, and a full
collection walks everything that survived earlier ones. In a web process nearly all of those are
modules, classes and functions that live as long as the process; collecting them stalled every
stream for 60-85 ms at 100 concurrent answers (bench/README.md).

`gc.freeze()` moves everything that exists at that moment into a permanent generation that is
never walked. It covers only what exists when it runs, and answering the first question imports
several hundred modules on first use (the AI SDK with its API resources, types and HTTP stack,
Celery's task publisher, the database pool), so those are imported first.

The collection thresholds stay CPython's: a young threshold of 10,000 instead of 700 took less
than half the collector's time, but its young collections paused every stream for 2-5 ms and
its middle ones for up to 40 ms, which showed in the time to first token.
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


def gc_set_up() -> None:
    """Import the answer path's lazily loaded modules, collect what start-up left behind, and
    freeze every object that remains. Call once, when the process is set up to serve."""
    for name in ANSWER_PATH_MODULES:
        importlib.import_module(name)
    gc.collect()
    gc.freeze()
