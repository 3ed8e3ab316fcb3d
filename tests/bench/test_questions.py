"""The question pool of bench/stream.py: what shoppers ask the demo shop, drawn without repeats."""

from collections import Counter

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from bench.stream_clients import QUESTION, QuestionDraw, question_in_pass, question_language, question_pool
from chatplatform.ai.base import ChatRequest
from chatplatform.ai.local import LocalChatProvider
from conversations.chat.flow_router import flow_profiles, route_local
from conversations.chat.retrieval import retrieve
from conversations.models import ChatbotSettings


def language(question: str) -> str:
    return question_language(question)


def test_the_pool_holds_at_least_200_distinct_questions_in_danish_and_english():
    pool = question_pool()
    languages = Counter(language(question) for question in pool)

    assert len(pool) >= 200
    assert len({question.casefold() for question in pool}) == len(pool)
    assert languages["?"] == 0, [q for q in pool if language(q) == "?"]
    assert min(languages["da"], languages["en"]) >= 0.4 * len(pool), languages
    assert QUESTION in pool


def test_a_draw_asks_every_question_once_before_asking_any_again():
    pool = question_pool()
    draw = QuestionDraw(pool, seed=3)

    asked: list[str] = []
    rounds: list[list[str]] = []
    for size in [1, 10, 100, 7, 100, 10, 100, 100, 1, 100, 100, 100]:
        rounds.append(draw.take(size))
        asked += rounds[-1]

    assert len(asked) > 2 * len(pool)
    assert sorted(asked[: len(pool)]) == sorted(pool)
    assert sorted(asked[len(pool) : 2 * len(pool)]) == sorted(question_in_pass(q, 1) for q in pool)
    # Also the round in which one pass ends and the next begins asks no question twice.
    assert all(len(set(questions)) == len(questions) for questions in rounds)


def test_a_run_of_3100_questions_asks_no_text_twice():
    """A text asked before finds its embedding and route in the platform's caches; the largest
    run (`--concurrency 1,10,100 --rounds 27`) asks about 3,100 questions per path."""
    pool = question_pool()
    draw = QuestionDraw(pool, seed=0)

    asked = [question for size in [1] * 100 + [10] * 100 + [100] * 20 for question in draw.take(size)]

    assert len(asked) == 3100
    assert len(set(asked)) == len(asked)
    # Each text keeps its question's language: a Danish greeting for a Danish question.
    for number in (1, 13, 47):
        assert all(question_language(question_in_pass(q, number)) == question_language(q) for q in pool)


def test_the_same_seed_draws_the_same_questions_in_the_same_order():
    pool = question_pool()

    first, again, other = (QuestionDraw(pool, seed=seed).take(300) for seed in (1, 1, 2))

    assert first == again
    assert first != other


def test_with_one_question_every_client_asks_it():
    assert QuestionDraw([QUESTION]).take(10) == [QUESTION] * 10


@pytest.mark.django_db(transaction=True)
async def test_every_question_gets_a_flow_and_an_answer_from_the_local_provider(settings, tmp_path):
    """Routed by the demo chatbot's local router, retrieved from that flow's index and answered
    by the local provider, as the benchmark's platform does with every question: none fails, none
    takes a fixed-text path, and the questions spread over all the shop's flows."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_PROVIDER = "local"
    await sync_to_async(call_command)("load_demo_data", verbosity=0)
    chatbot = await ChatbotSettings.objects.aget(chatbot_id="nordvin")
    flows = {flow.name: flow async for flow in chatbot.flows.all()}
    profiles = flow_profiles(chatbot, list(flows.values()))
    provider = LocalChatProvider()

    routed: Counter[str] = Counter()
    with_context = 0
    failures = []
    for question in question_pool():
        route = route_local(question, profiles)
        if route.flow not in flows or "nothing resembled" in route.reason:
            failures.append((question, route))
            continue
        routed[route.flow] += 1
        retrieval = await retrieve(chatbot=chatbot, flow=flows[route.flow], question=question)
        if retrieval.error_code:
            failures.append((question, route.flow, retrieval.error_code))
            continue
        with_context += bool(retrieval.chunks)
        request = ChatRequest(
            messages=[{"role": "user", "content": question}],
            question=question,
            context=retrieval.chunks,
            language=chatbot.language,
        )
        answer = "".join([piece async for piece in provider.stream_chat(request) if isinstance(piece, str)])
        if not answer.strip():
            failures.append((question, route.flow, "empty answer"))

    assert failures == []
    assert set(routed) == set(flows), routed
    assert min(routed.values()) >= 15, routed
    # Most answers are grounded in retrieved chunks, as the benchmark's prompts should be.
    assert with_context >= 0.5 * len(question_pool()), with_context
