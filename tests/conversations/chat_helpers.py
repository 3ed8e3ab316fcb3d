"""Helpers for chat tests: a knowledge base in the chatbot's own store, and websocket clients."""

import json
from typing import Any

from channels.testing import WebsocketCommunicator

from chatplatform.ai import get_embedder
from chatplatform.asgi import application
from chatplatform.vectorstores.base import VectorRecord
from conversations.knowledge.stores import vector_store_for
from conversations.models import ChatbotSettings


def kb_add(chatbot: ChatbotSettings, index_name: str, docs: dict[str, str]) -> None:
    """Store one chunk per document (title -> text) in the chatbot's index."""
    store = vector_store_for(chatbot=chatbot, index_name=index_name)
    titles = list(docs)
    vectors = get_embedder().embed([docs[title] for title in titles])
    store.upsert(
        [
            VectorRecord(
                id=f"test-{n}",
                values=vector,
                metadata={"text": docs[title], "source": title, "document_id": n, "section": ""},
            )
            for n, (title, vector) in enumerate(zip(titles, vectors, strict=True))
        ]
    )


def communicator(
    chatbot_id: str, *, token: str = "", origin: str | None = "http://testserver"
) -> WebsocketCommunicator:
    path = f"/ws/chat/{chatbot_id}/" + (f"?conversation={token}" if token else "")
    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def connect(chatbot_id: str, **kwargs) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    comm = communicator(chatbot_id, **kwargs)
    connected, _ = await comm.connect()
    assert connected
    return comm, await comm.receive_json_from(timeout=5)


async def events_until_final(comm: WebsocketCommunicator, timeout: float = 10) -> list[dict[str, Any]]:
    """Every event up to and including the answer's `end` or `error`."""
    events = []
    while True:
        event = await comm.receive_json_from(timeout=timeout)
        events.append(event)
        if event["type"] in {"end", "error"} and "message_id" in event:
            return events


async def ask(comm: WebsocketCommunicator, text: str, **extra) -> list[dict[str, Any]]:
    await comm.send_to(text_data=json.dumps({"type": "message", "text": text, **extra}))
    return await events_until_final(comm)


def streamed_text(events: list[dict[str, Any]]) -> str:
    return "".join(event["text"] for event in events if event["type"] == "token")


def seqs(events: list[dict[str, Any]]) -> list[int]:
    return [event["seq"] for event in events if event["type"] == "token"]
