"""Embeddings of search queries (shoppers' questions): remembered by text, and requested together
when several are asked at once.

Every answer embeds its question before it can retrieve anything, so this request stands between
the question and the first token. Two things make it cheaper without changing any vector:

- Shoppers ask the same questions again and again ("how much is shipping?"); the vector of a
  text never changes for a given model and dimension, so the last `cache_size` are kept (float32,
  6 KiB each at 1536 dimensions).
- Questions that arrive in the same turn of the event loop go out as one request (the
  embeddings API takes a list): at 100 concurrent questions the per-request cost of the SDK and
  HTTP dominates, and one request for 20 texts costs about as much as three for one. Nothing waits
  for a batch to fill: a request leaves on the next turn of the loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable

import numpy as np

EmbedMany = Callable[[list[str]], Awaitable[list[list[float]]]]

MAX_BATCH = 64


class QueryEmbeddings:
    def __init__(self, embed_many: EmbedMany, *, cache_size: int) -> None:
        self._embed_many = embed_many
        self._cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # Texts waiting for the next request, per event loop (futures belong to one loop).
        self._pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Future]] = (
            weakref.WeakKeyDictionary()
        )
        self._requests: set[asyncio.Task] = set()

    async def embed(self, text: str) -> np.ndarray:
        """The float32 vector of `text`; raises what the provider raises (for every text that
        shared the failed request)."""
        vector = self._cache.get(text)
        if vector is not None:
            self._cache.move_to_end(text)
            return vector
        loop = asyncio.get_running_loop()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = {}
            loop.call_soon(self._send, loop)
        future = pending.get(text)
        if future is None:
            future = pending[text] = loop.create_future()
            # Read its outcome even if every waiter was cancelled, so no failure goes unreported.
            future.add_done_callback(_consume)
        # Shielded: a cancelled caller must not cancel the vector that other callers wait for.
        return await asyncio.shield(future)

    def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = self._pending.pop(loop, {})
        texts = list(pending)
        for start in range(0, len(texts), MAX_BATCH):
            batch = {text: pending[text] for text in texts[start : start + MAX_BATCH]}
            task = loop.create_task(self._request(batch))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    async def _request(self, batch: dict[str, asyncio.Future]) -> None:
        try:
            vectors = await self._embed_many(list(batch))
        except asyncio.CancelledError:
            for future in batch.values():
                future.cancel()
            raise
        except Exception as exc:  # every text of the request gets the failure
            for future in batch.values():
                if not future.done():
                    future.set_exception(exc)
            return
        for (text, future), values in zip(batch.items(), vectors, strict=True):
            vector = np.asarray(values, dtype=np.float32)
            self._remember(text, vector)
            if not future.done():
                future.set_result(vector)

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self._cache_size <= 0:
            return
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


def _consume(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()
