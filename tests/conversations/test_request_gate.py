import asyncio

from conversations import request_gate
from conversations.request_gate import request_preparing, requests_sent


async def test_answers_send_their_requests_in_arrival_order():
    first, second, third = request_preparing(), request_preparing(), request_preparing()
    order: list[str] = []

    async def answer(name, turn, work):
        await turn.wait()
        order.append(f"{name} sends")
        await asyncio.sleep(work)  # the SDK's steps, with turns of the loop between them
        order.append(f"{name} sent")
        turn.release()

    await asyncio.gather(answer("c", third, 0), answer("b", second, 0.01), answer("a", first, 0.01))

    assert order == ["a sends", "a sent", "b sends", "b sent", "c sends", "c sent"]


async def test_a_request_that_cannot_leave_holds_the_next_for_at_most_the_turn_wait(monkeypatch):
    monkeypatch.setattr(request_gate, "MAX_TURN_WAIT", 0.05)
    stuck, next_one = request_preparing(), request_preparing()
    await stuck.wait()

    await asyncio.wait_for(next_one.wait(), timeout=2)  # returns although `stuck` never released

    stuck.release()
    next_one.release()


async def test_the_first_answer_does_not_wait_and_release_is_idempotent():
    turn = request_preparing()
    await turn.wait()

    turn.release()
    turn.release()

    later = request_preparing()
    await later.wait()
    later.release()
    await asyncio.wait_for(requests_sent(), timeout=0.01)


async def test_writes_wait_until_every_request_of_the_burst_has_left():
    turns = [request_preparing() for _ in range(3)]
    waiting = asyncio.ensure_future(requests_sent())

    for turn in turns[:2]:
        turn.release()
    await asyncio.sleep(0.01)
    assert not waiting.done()

    turns[2].release()
    await asyncio.wait_for(waiting, timeout=1)
