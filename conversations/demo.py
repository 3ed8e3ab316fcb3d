"""The demo chatbot that `make run` loads (Nordvin, a Danish wine shop)."""

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files import File

from conversations.chatbot_io import ImportReport, chatbots_import
from conversations.flows import chatbot_flows_ensure
from conversations.knowledge.services import knowledge_document_load
from conversations.models import ChatbotSettings
from conversations.selectors import chatbot_get

logger = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"

DEMO_SYSTEM_PROMPT = (
    "Du er Nordvins venlige kundeservice-assistent. Svar kort og præcist ud fra vidensbasen, "
    "på kundens sprog. Hvis svaret ikke står i vidensbasen, så sig det ærligt."
)


def demo_manifest(name: str = "nordvin") -> dict:
    return json.loads((DEMO_DIR / name / "manifest.json").read_text(encoding="utf-8"))


def demo_chatbot_load(name: str = "nordvin") -> ImportReport:
    """Create or update the demo chatbot from its manifest; running it again changes nothing."""
    manifest = demo_manifest(name)
    row = {
        "chatbot_id": manifest["chatbot_id"],
        "name": manifest["name"],
        "language": manifest["language"],
        "is_active": True,
        "topics": manifest["topics"],
        "system_prompt": DEMO_SYSTEM_PROMPT,
        **manifest["indexes"],
    }
    report = chatbots_import(rows=[(1, row)])
    if not report.errors:
        demo_flows_apply(chatbot_get(chatbot_id=manifest["chatbot_id"]), name)
        knowledge = demo_knowledge_base_load(name)
        logger.info("Demo knowledge base %s: %s", manifest["chatbot_id"], knowledge.summary())
    return report


def demo_flows_apply(chatbot: ChatbotSettings, name: str = "nordvin") -> None:
    """Give the demo's flows their descriptions and example questions (the router reads them)."""
    specs = json.loads((DEMO_DIR / name / "flows.json").read_text(encoding="utf-8"))
    chatbot_flows_ensure(chatbot=chatbot)
    for flow in chatbot.flows.all():
        spec = specs.get(flow.name)
        if spec is None:
            continue
        wanted = {
            "title": spec["title"],
            "description": spec["description"],
            "example_questions": spec["examples"],
        }
        if any(getattr(flow, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(flow, field, value)
            flow.save()


@dataclass
class KnowledgeBaseReport:
    ingested: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    chunks: int = 0

    def summary(self) -> str:
        text = (
            f"{len(self.ingested)} ingested, {len(self.unchanged)} unchanged, {len(self.failed)} failed "
            f"({self.chunks} chunks)"
        )
        return f"{text}: {'; '.join(self.failed)}" if self.failed else text


def demo_knowledge_base_load(name: str = "nordvin") -> KnowledgeBaseReport:
    """Ingest the demo documents into their flows' indexes, in this process; unchanged ones are skipped.

    The manifest lists documents per index name; the chatbot's settings say which flow uses each
    index. Failures are reported, not raised, so that `make run` still starts without them.
    """
    manifest = demo_manifest(name)
    chatbot = chatbot_get(chatbot_id=manifest["chatbot_id"])
    flows = {index_name: flow for flow, index_name in chatbot.flow_indexes().items() if index_name}
    report = KnowledgeBaseReport()
    for index_name, file_names in manifest.get("documents", {}).items():
        flow = flows.get(index_name)
        if flow is None:
            report.failed.append(f"{index_name}: no flow of {chatbot.chatbot_id} uses this index")
            continue
        for file_name in file_names:
            with (DEMO_DIR / name / file_name).open("rb") as handle:
                result = knowledge_document_load(
                    chatbot=chatbot,
                    flow=flow,
                    uploaded_file=File(handle, name=file_name),
                    skip_unchanged=True,
                )
            if result.outcome == "failed":
                report.failed.append(f"{file_name}: {result.error}")
                continue
            (report.unchanged if result.outcome == "unchanged" else report.ingested).append(file_name)
            report.chunks += result.document.chunk_count
    return report
