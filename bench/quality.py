"""Answer quality on the demo shop: document recall, routing accuracy, fact-in-answer rate and
order-variable exactness, per language. See bench/README.md, "Answer quality".

    .venv/bin/python bench/quality.py            # a throw-away SQLite database, the local provider
    .venv/bin/python bench/quality.py --failures # also list what went wrong

The questions go through the chat's own code in this process (`pipeline.answer_start`: routing,
retrieval, the provider's answer), one fresh conversation each, exactly as a websocket message
would; the order messages through `tracking.extraction` with the shop's order-number format.
`tests/bench/test_answer_quality.py` keeps each figure above a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETS = ROOT / "bench" / "quality"
CHATBOT_ID = "nordvin"


@dataclass
class AnswerResult:
    question: str
    language: str
    expected_docs: list[str]
    expected_flows: set[str]
    facts: list[str]
    flow: str = ""
    text: str = ""
    sources: list[str] = field(default_factory=list)
    found_doc: bool = False
    routed: bool = False
    fact: bool = False


@dataclass
class ExtractionResult:
    text: str
    language: str
    expected: dict[str, str]
    got: dict[str, str]

    @property
    def exact(self) -> bool:
        return self.expected == self.got


def question_set() -> list[dict]:
    return json.loads((SETS / "questions.json").read_text(encoding="utf-8"))["questions"]


def order_message_set() -> dict:
    return json.loads((SETS / "order_messages.json").read_text(encoding="utf-8"))


# --- answers ---------------------------------------------------------------------------------


def _document_flows() -> tuple[dict[str, str], dict[str, str]]:
    """File name -> the title its answers' sources show, and file name -> the flow of its index."""
    from conversations.demo import demo_manifest
    from conversations.models import KnowledgeDocument
    from conversations.selectors import chatbot_get

    chatbot = chatbot_get(chatbot_id=CHATBOT_ID)
    flow_of_index = {index: flow for flow, index in chatbot.flow_indexes().items() if index}
    flows = {
        file_name: flow_of_index[index]
        for index, files in demo_manifest()["documents"].items()
        for file_name in files
    }
    titles = dict(KnowledgeDocument.objects.filter(chatbot=chatbot).values_list("source_name", "title"))
    return titles, flows


async def _ask(question: str) -> dict:
    """The final event of one question, asked in a new conversation, and its `start` flow."""
    from channels.db import database_sync_to_async

    from conversations.chat.pipeline import answer_start
    from conversations.chat.selectors import chat_open

    opening = await database_sync_to_async(chat_open)(chatbot_id=CHATBOT_ID, token="", origin=None, host=None)
    done = asyncio.Event()
    frames: list[dict] = []

    async def send(frame: str) -> None:
        event = json.loads(frame)
        frames.append(event)
        if event["type"] in ("end", "error"):
            done.set()

    buffer = answer_start(state=opening.state, question=question)
    await buffer.subscribe(send)
    await asyncio.wait_for(done.wait(), timeout=30)
    final = frames[-1]
    start = next((f for f in frames if f["type"] == "start"), {})
    return {**final, "flow": start.get("flow", "")}


async def answers_evaluate(questions: list[dict]) -> list[AnswerResult]:
    """Ask every question of the set; the demo chatbot must be loaded."""
    from channels.db import database_sync_to_async

    from chatplatform.ai.local import NOT_FOUND

    titles, flows = await database_sync_to_async(_document_flows)()
    results = []
    for item in questions:
        final = await _ask(item["q"])
        result = AnswerResult(
            question=item["q"],
            language=item["lang"],
            expected_docs=item["docs"],
            expected_flows={flows[doc] for doc in item["docs"]},
            facts=item["facts"],
            flow=final.get("flow", ""),
            text=final.get("text", "") if final["type"] == "end" else f"[{final.get('code')}]",
            sources=[source["title"] for source in final.get("sources", [])],
        )
        wanted_titles = {titles.get(doc, doc) for doc in item["docs"]}
        if item["docs"]:
            result.found_doc = bool(wanted_titles & set(result.sources))
            result.routed = result.flow in result.expected_flows
            text = result.text.casefold()
            result.fact = any(fact.casefold() in text for fact in item["facts"])
        else:
            # Nothing in the shop's documents answers it: the "not found" reply, in its language.
            result.fact = result.text == NOT_FOUND[item["lang"]]
        results.append(result)
    return results


# --- order variables -------------------------------------------------------------------------


def extractions_evaluate(data: dict) -> list[ExtractionResult]:
    from tracking.extraction import extract_local

    results = []
    for item in data["messages"]:
        found = extract_local([item["text"]], order_number_format=data["order_number_format"])
        expected = {key: item.get(key, "") for key in ("order_number", "email", "postcode")}
        got = {"order_number": found.order_number, "email": found.email, "postcode": found.postcode}
        results.append(ExtractionResult(item["text"], item["lang"], expected, got))
    return results


# --- figures ---------------------------------------------------------------------------------


def _rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 1.0


def figures(answers: list[AnswerResult], extractions: list[ExtractionResult]) -> dict[str, dict]:
    """Per language ("da", "en") and "all": the four rates and their counts."""
    table: dict[str, dict] = {}
    languages = sorted({a.language for a in answers} | {e.language for e in extractions})
    for language in [*languages, "all"]:
        mine = [a for a in answers if language in ("all", a.language)]
        answerable = [a for a in mine if a.expected_docs]
        orders = [e for e in extractions if language in ("all", e.language)]
        table[language] = {
            "questions": len(mine),
            "document_recall": _rate([a.found_doc for a in answerable]),
            "routing_accuracy": _rate([a.routed for a in answerable]),
            "fact_in_answer": _rate([a.fact for a in mine]),
            "order_messages": len(orders),
            "extraction_exact": _rate([e.exact for e in orders]),
        }
    return table


def report(table: dict[str, dict]) -> str:
    lines = [
        "| language | questions | document recall | routing accuracy | fact in answer "
        "| order messages | order variables exact |",
        "|---|---|---|---|---|---|---|",
    ]
    for language, row in table.items():
        lines.append(
            f"| {language} | {row['questions']} | {row['document_recall']:.2f} "
            f"| {row['routing_accuracy']:.2f} | {row['fact_in_answer']:.2f} "
            f"| {row['order_messages']} | {row['extraction_exact']:.2f} |"
        )
    return "\n".join(lines)


def failures(answers: list[AnswerResult], extractions: list[ExtractionResult]) -> str:
    lines = [
        f"- {a.question}\n    flow {a.flow} (want {sorted(a.expected_flows)}), "
        f"sources {a.sources}, want {a.expected_docs} {a.facts}\n    -> {a.text[:300]}"
        for a in answers
        if not (a.fact and (a.found_doc or not a.expected_docs) and (a.routed or not a.expected_docs))
    ]
    lines += [f"- {e.text!r}: got {e.got}, want {e.expected}" for e in extractions if not e.exact]
    return "\n".join(lines)


# --- the command -----------------------------------------------------------------------------


def _django_setup(database: Path) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["REDIS_URL"] = ""
    os.environ["AI_PROVIDER"] = "local"
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failures", action="store_true", help="list the misses")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        _django_setup(Path(scratch) / "quality.sqlite3")
        from django.conf import settings
        from django.core.management import call_command

        settings.MEDIA_ROOT = Path(scratch) / "media"
        call_command("migrate", verbosity=0)
        call_command("load_demo_data", verbosity=0)
        answers = asyncio.run(answers_evaluate(question_set()))
        extractions = extractions_evaluate(order_message_set())
        print(report(figures(answers, extractions)))
        if args.failures:
            print(failures(answers, extractions))


if __name__ == "__main__":
    main()
