"""The demo chatbot that `make run` loads (Nordvin, a Danish wine shop)."""

import json
from pathlib import Path

from conversations.chatbot_io import ImportReport, chatbots_import

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
    return chatbots_import(rows=[(1, row)])
