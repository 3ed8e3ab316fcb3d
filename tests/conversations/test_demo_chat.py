"""What `make run` promises: with no API keys, the demo chatbot answers from its knowledge base."""

import pytest
from django.core.management import call_command

from tests.conversations.chat_helpers import ask, connect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_PROVIDER = "local"
    call_command("load_demo_data", verbosity=0)


async def test_the_demo_answers_the_bornholm_shipping_question_in_danish(demo):
    comm, _ = await connect("nordvin")

    events = await ask(comm, "Hvad koster fragt til Bornholm?")
    await comm.disconnect()

    end = events[-1]
    assert end["type"] == "end", end
    assert events[0]["flow"] == "default"
    assert "Bornholm" in end["text"]
    assert "kr" in end["text"]
    assert any("levering" in source["title"].lower() for source in end["sources"]), end["sources"]


async def test_the_demo_answers_how_long_an_opened_bottle_keeps(demo):
    comm, _ = await connect("nordvin")

    events = await ask(comm, "How long can I keep an opened bottle of wine?")
    await comm.disconnect()

    end = events[-1]
    assert end["type"] == "end", end
    assert events[0]["flow"] == "flow2"
    assert "2-4 days" in end["text"]
    assert any("stor" in source["title"].lower() for source in end["sources"]), end["sources"]


async def test_the_demo_answers_a_gift_card_question_routed_elsewhere_in_english(demo):
    comm, _ = await connect("nordvin")

    events = await ask(comm, "Can I still use a gift card I got two years ago?")
    await comm.disconnect()

    end = events[-1]
    assert end["type"] == "end", end
    assert "3 years" in end["text"]
    assert any("gift" in source["title"].lower() for source in end["sources"]), end["sources"]


async def test_the_demo_says_not_found_in_the_language_of_the_question(demo):
    comm, _ = await connect("nordvin")

    events = await ask(comm, "Who won the chess tournament?")
    await comm.disconnect()

    assert events[-1]["text"] == "I could not find that in our knowledge base."
