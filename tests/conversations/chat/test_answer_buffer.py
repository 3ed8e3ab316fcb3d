import uuid

import redis.asyncio

from chatplatform.ai.base import ChatStream
from conversations.chat import answer_buffer
from conversations.chat.answer_buffer import (
    KEEP_SECONDS,
    MIRROR_KEY,
    buffer_create,
    buffer_get,
    encode,
    replay_from_redis,
)
from tests.waiting import until


async def test_a_finished_answer_keeps_its_frames_for_resuming_and_lets_go_of_its_stream(settings):
    settings.REDIS_URL = ""

    async def deltas():
        yield "Fragt "

    buffer = buffer_create("answer-1")
    buffer.stream = ChatStream(deltas())
    await buffer.publish_start(encode({"type": "start", "message_id": "answer-1"}))
    await buffer.publish_token("Fragt ")
    await buffer.publish_final(encode({"type": "end", "message_id": "answer-1", "text": "Fragt "}))
    replayed: list[str] = []

    async def send(frame: str) -> None:
        replayed.append(frame)

    await buffer_get("answer-1").subscribe(send)

    assert buffer.stream is None
    assert [frame[:20] for frame in replayed] == [
        '{"type":"start","mes',
        '{"type":"token","mes',
        '{"type":"end","messa',
    ]


async def test_with_redis_another_process_replays_the_frames_after_a_given_seq(settings, redis_url):
    settings.REDIS_URL = redis_url
    message_id = f"mirror-{uuid.uuid4()}"
    buffer = buffer_create(message_id)
    start = encode({"type": "start", "message_id": message_id})
    end = encode({"type": "end", "message_id": message_id, "text": "Fragt koster 49 kr."})

    await buffer.publish_start(start)
    for word in ["Fragt ", "koster ", "49 kr."]:
        await buffer.publish_token(word)
    await buffer.publish_final(end)  # written to Redis at once
    replayed = [frame async for frame in await replay_from_redis(message_id, after_seq=1)]

    assert replayed == [start, buffer.tokens[1], buffer.tokens[2], end]
    other_process = redis.asyncio.from_url(redis_url)
    try:
        assert 0 < await other_process.ttl(MIRROR_KEY.format(message_id)) <= KEEP_SECONDS
    finally:
        await other_process.delete(MIRROR_KEY.format(message_id))
        await other_process.aclose()


async def test_an_entry_redis_refuses_does_not_keep_other_answers_from_redis(
    settings, redis_url, monkeypatch, caplog
):
    settings.REDIS_URL = redis_url
    monkeypatch.setattr(answer_buffer, "FLUSH_INTERVAL", 0.01)
    refused, kept = (f"mirror-{uuid.uuid4()}" for _ in range(2))
    other_process = redis.asyncio.from_url(redis_url)
    try:
        # An entry above anything this answer will write: Redis refuses its appends.
        await other_process.xadd(MIRROR_KEY.format(refused), {"s": 0, "f": "{}"}, id="0-999")
        for message_id in (refused, kept):
            await buffer_create(message_id).publish_start(encode({"type": "start", "message_id": message_id}))
        # Logged once the flush that carried both entries has run.
        await until(lambda: "Redis refused 1 of 2 answer entries" in caplog.text, timeout=10)

        assert await other_process.xlen(MIRROR_KEY.format(kept)) == 1
        assert await other_process.xlen(MIRROR_KEY.format(refused)) == 1
    finally:
        await other_process.delete(MIRROR_KEY.format(refused), MIRROR_KEY.format(kept))
        await other_process.aclose()
