"""Answer quality on the demo shop (bench/quality.py): the real routing, retrieval and local
provider, in this process, over the evaluation sets in bench/quality/. The floors are the
figures the sets must keep (bench/README.md, "Answer quality")."""

import pytest
from django.core.management import call_command

from bench.quality import (
    answers_evaluate,
    extractions_evaluate,
    figures,
    order_message_set,
    question_set,
    report,
)

pytestmark = pytest.mark.django_db(transaction=True)

FLOORS = {
    "all": {
        "document_recall": 0.9,
        "routing_accuracy": 0.9,
        "fact_in_answer": 0.85,
        "extraction_exact": 0.95,
    },
    "da": {"document_recall": 0.9, "routing_accuracy": 0.9, "fact_in_answer": 0.8, "extraction_exact": 0.95},
    "en": {"document_recall": 0.9, "routing_accuracy": 0.9, "fact_in_answer": 0.8, "extraction_exact": 0.95},
}


def test_the_evaluation_sets_are_large_enough_and_bilingual():
    questions = question_set()
    messages = order_message_set()["messages"]

    assert len(questions) >= 80
    assert len(messages) >= 40
    for language in ("da", "en"):
        assert sum(q["lang"] == language for q in questions) >= 35
        assert sum(m["lang"] == language for m in messages) >= 15
    # Some questions are about nothing the shop's documents hold.
    assert sum(not q["docs"] for q in questions) >= 4


async def test_answers_and_order_variables_stay_above_their_floors(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_PROVIDER = "local"
    settings.TELEMETRY_ENABLED = False
    from asgiref.sync import sync_to_async

    await sync_to_async(call_command)("load_demo_data", verbosity=0)

    answers = await answers_evaluate(question_set())
    table = figures(answers, extractions_evaluate(order_message_set()))

    for language, floors in FLOORS.items():
        for name, floor in floors.items():
            assert table[language][name] >= floor, f"{language} {name}\n{report(table)}"
