"""Every event of an answer, kept for a few minutes so that a reconnecting client can resume.

The answer's task publishes each event (a JSON frame) to its `AnswerBuffer`; websocket and SSE
connections subscribe from the start or after a `seq`. With `REDIS_URL`, frames are mirrored to
a Redis stream off the token path (one script call per `FLUSH_INTERVAL` for all answers of the
loop), so a client reconnecting to another web process can replay and follow them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
from django.conf import settings

from chatplatform.event_loops import PerLoop, async_redis

logger = logging.getLogger(__name__)

Send = Callable[[str], Awaitable[None]]

KEEP_SECONDS = 300
# A follower on another process sees frames at most this late; every flush costs one round trip.
FLUSH_INTERVAL = 0.2
MIRROR_KEY = "chatplatform:answer:{}"
# Blocking reads stay well under the Redis client's socket timeout (REDIS_TIMEOUT_SECONDS).
_FOLLOW_BLOCK_MS = 1000
_FIRST_ENTRY_WAIT_MS = int(4 * FLUSH_INTERVAL * 1000)


def encode(event: dict) -> str:
    return orjson.dumps(event).decode()


class AnswerBuffer:
    """The frames of one answer: token frames (index = seq - 1), then one final frame."""

    def __init__(self, message_id: str, conversation_id=None) -> None:
        self.message_id = message_id
        self.conversation_id = conversation_id
        self.start_frame: str | None = None
        self.tokens: list[str] = []
        self.final: str | None = None
        self.finished_at: float | None = None
        self._subscribers: list[Send] = []
        self._redis_pending: list[tuple[int, str]] = []
        self._redis_expiry_set = False
        # A client asked to stop the answer.
        self.stop_requested = False
        # The provider stream being read, so that a stop can close it; dropped with the final
        # frame, so that a finished answer, kept for resuming, holds its frames and nothing else.
        self.stream = None
        self._token_prefix = f'{{"type":"token","message_id":"{message_id}","seq":'

    # -- publishing (the answer task) --------------------------------------------------------

    async def publish_start(self, frame: str) -> None:
        """Publish the `start` frame; only the first call counts."""
        if self.start_frame is not None:
            return
        self.start_frame = frame
        self._to_redis(0, frame)
        await self._fan_out(frame)

    async def publish_token(self, text: str) -> int:
        seq = len(self.tokens) + 1
        frame = f'{self._token_prefix}{seq},"text":{orjson.dumps(text).decode()}}}'
        self.tokens.append(frame)
        self._to_redis(seq, frame)
        await self._fan_out(frame)
        return seq

    async def publish_final(self, frame: str) -> None:
        self.final = frame
        self.finished_at = time.monotonic()
        self.stream = None
        _finished.append((self.finished_at, self.message_id))
        self._to_redis(len(self.tokens) + 1, frame)
        await self._fan_out(frame)
        self._subscribers.clear()
        if settings.REDIS_URL:
            await _mirror().flush(self, final=True)

    async def _fan_out(self, frame: str) -> None:
        for send in tuple(self._subscribers):
            try:
                await send(frame)
            except Exception:
                self.unsubscribe(send)

    # -- subscribing (connections) -----------------------------------------------------------

    async def subscribe(self, send: Send, *, after_seq: int = 0, with_start: bool = True) -> None:
        """Replay what is buffered after `after_seq`, then receive the rest live."""
        if with_start and self.start_frame is not None:
            await send(self.start_frame)
        # Replay and registration happen without an await in between reading the last frame and
        # registering, so no frame published meanwhile is lost or sent twice.
        position = max(after_seq, 0)
        while position < len(self.tokens):
            end = len(self.tokens)
            for frame in self.tokens[position:end]:
                await send(frame)
            position = end
        if self.final is not None:
            await send(self.final)
            return
        self._subscribers.append(send)

    def unsubscribe(self, send: Send) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(send)

    @property
    def done(self) -> bool:
        return self.final is not None

    # -- Redis mirror ------------------------------------------------------------------------

    def _to_redis(self, entry: int, frame: str) -> None:
        if not settings.REDIS_URL:
            return
        if not self._redis_pending:
            _mirror().mark(self)
        self._redis_pending.append((entry, frame))


# Appends one entry to each answer's stream (KEYS) and sets its expiry when asked: per key, four
# arguments (entry id, number of its first frame, the frames, seconds to keep or 0). One command
# and one reply per flush whatever the number of answers, where a pipeline costs the client
# packing and parsing two commands per answer (about 20 µs each, a 100-answer flush ~2 ms, 0.7
# as a script). A failing append does not stop the others; the reply counts the failures.
_APPEND_SCRIPT = """
local failed = 0
for i, key in ipairs(KEYS) do
  local at = (i - 1) * 4
  local added = redis.pcall('XADD', key, ARGV[at + 1], 's', ARGV[at + 2], 'f', ARGV[at + 3])
  if type(added) == 'table' and added.err then
    failed = failed + 1
  elseif ARGV[at + 4] ~= '0' then
    redis.call('EXPIRE', key, ARGV[at + 4])
  end
end
return failed
"""


class _RedisMirror:
    """Writes the pending frames of every answer of one event loop to Redis.

    Answers mark themselves when they have frames to write; every `FLUSH_INTERVAL` one script
    call (`_APPEND_SCRIPT`) carries the frames of all of them. Batches are taken and written under
    one lock, so a stream's entries always reach Redis in order, also when an answer's final
    flush runs between two periodic ones.
    """

    def __init__(self) -> None:
        self._dirty: dict[AnswerBuffer, None] = {}  # an ordered set
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._append = None  # the script (its text and digest), made at the first write

    def mark(self, buffer: AnswerBuffer) -> None:
        self._dirty[buffer] = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_periodically())

    async def flush(self, buffer: AnswerBuffer, *, final: bool = False) -> None:
        """Write what `buffer` has pending now (its final frame included), not waiting for the timer."""
        self._dirty.pop(buffer, None)
        await self._write([buffer], final=final)

    async def _flush_periodically(self) -> None:
        while self._dirty:
            await asyncio.sleep(FLUSH_INTERVAL)
            buffers, self._dirty = list(self._dirty), {}
            await self._write(buffers)

    async def _write(self, buffers: list[AnswerBuffer], *, final: bool = False) -> None:
        async with self._lock:
            batches = []
            for buffer in buffers:
                if buffer._redis_pending:
                    batches.append((buffer, buffer._redis_pending))
                    buffer._redis_pending = []
            if not batches:
                return
            keys: list[str] = []
            args: list[str | int] = []
            for buffer, batch in batches:
                # Expire with the first batch (an answer whose process dies goes away too) and
                # again with the last one, KEEP_SECONDS after the answer ended.
                expire = final or not buffer._redis_expiry_set
                buffer._redis_expiry_set = True
                keys.append(MIRROR_KEY.format(buffer.message_id))
                # Frames are JSON: a newline never occurs inside one.
                frames = "\n".join(frame for _, frame in batch)
                args += (f"0-{batch[-1][0] + 1}", batch[0][0], frames, KEEP_SECONDS if expire else 0)
            try:
                client = async_redis()
                if self._append is None:
                    self._append = client.register_script(_APPEND_SCRIPT)
                # On the client of the current REDIS_URL, not the one the script was made with.
                failed = await self._append(keys=keys, args=args, client=client)
                if failed:
                    logger.warning(
                        "Redis refused %d of %d answer entries, e.g. %s", failed, len(keys), keys[0]
                    )
            except Exception:
                # Resume across processes degrades; the answer goes on.
                logger.warning(
                    "Could not mirror %d answer(s) to Redis, e.g. %s",
                    len(batches),
                    batches[0][0].message_id,
                    exc_info=True,
                )


# One mirror per event loop, like the Redis clients.
_mirror = PerLoop(_RedisMirror).get


# -- the registry of this process ------------------------------------------------------------

_buffers: dict[str, AnswerBuffer] = {}
# (finished_at, message_id) of finished answers, oldest first: expiring needs no scan of them all.
_finished: deque[tuple[float, str]] = deque()


def buffer_create(message_id: str, conversation_id=None) -> AnswerBuffer:
    _forget_expired()
    buffer = AnswerBuffer(message_id, conversation_id)
    _buffers[message_id] = buffer
    return buffer


def buffer_get(message_id: str) -> AnswerBuffer | None:
    return _buffers.get(message_id)


def _forget_expired() -> None:
    limit = time.monotonic() - KEEP_SECONDS
    while _finished and _finished[0][0] < limit:
        _buffers.pop(_finished.popleft()[1], None)


async def replay_from_redis(
    message_id: str, *, after_seq: int, streaming: bool = False
) -> AsyncIterator[str] | None:
    """Frames after `after_seq` of an answer generated by another process, then live ones.

    Returns None when Redis holds nothing for that answer (unknown or expired). An answer that is
    `streaming` may not have reached Redis yet (its first frames are written up to
    `FLUSH_INTERVAL` after they were made): its first entry is waited for, a little longer.
    """
    if not settings.REDIS_URL:
        return None
    key = MIRROR_KEY.format(message_id)
    client = async_redis()
    entries = await client.xrange(key, min="0-1", max="+", count=1)
    if not entries and streaming:
        found = await client.xread({key: "0-0"}, block=_FIRST_ENTRY_WAIT_MS, count=1)
        entries = found[0][1] if found else []
    if not entries:
        return None

    async def frames() -> AsyncIterator[str]:
        # The first entry starts with the start frame (number 0); the entry that holds the token
        # after `after_seq` is the first one whose id is above 0-(after_seq + 1).
        yield entry_frames(*entries[0])[0][1]
        last = f"0-{after_seq + 1}"
        deadline = time.monotonic() + KEEP_SECONDS
        while time.monotonic() < deadline:
            result = await client.xread({key: last}, block=_FOLLOW_BLOCK_MS, count=500)
            if not result:
                if not await client.exists(key):
                    return
                continue
            for entry_id, fields in result[0][1]:
                last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                for number, frame in entry_frames(entry_id, fields):
                    if number <= after_seq:
                        continue
                    yield frame
                    if frame.startswith(('{"type":"end"', '{"type":"error"')):
                        return

    return frames()


def entry_frames(entry_id: bytes | str, fields: dict[bytes, bytes]) -> list[tuple[int, str]]:
    """(number, frame) of each frame of a stream entry."""
    frames = fields[b"f"].decode().split("\n")
    if b"s" in fields:
        first = int(fields[b"s"])
    else:  # written one frame per entry (before entries held batches): the id says which
        first = int((entry_id.decode() if isinstance(entry_id, bytes) else entry_id).split("-")[1]) - 1
    return list(enumerate(frames, start=first))
