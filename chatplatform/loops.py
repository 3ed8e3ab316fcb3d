"""One object per running event loop, for asyncio state that cannot move between loops.

Daphne runs one event loop; tests and `async_to_sync` make others. Locks, events, futures and
asyncio connections belong to the loop that made them, so module-level state of that kind is
kept per loop, and goes away with its loop.
"""

import asyncio
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._values: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        """The running loop's object, made on first use."""
        loop = asyncio.get_running_loop()
        value = self._values.get(loop)
        if value is None:
            value = self._values[loop] = self._factory()
        return value

    def clear(self) -> None:
        """Forget every loop's object (the next `get` makes a new one)."""
        self._values.clear()
