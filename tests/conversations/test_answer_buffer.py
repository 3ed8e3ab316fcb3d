from chatplatform.ai.base import ChatStream
from conversations.answer_buffer import buffer_create, buffer_get, encode


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
