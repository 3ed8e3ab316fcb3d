"""Resume tokens of conversations a chat connection announces before any row exists.

A websocket tells the visitor its conversation's id and token on connect (DESIGN.md), but the row
is written only with the first message, so a connection that never sends one writes nothing.
Such a token proves itself: it is a random nonce and a MAC of it (keyed with `SECRET_KEY`, bound
to the chatbot), and the conversation's id is derived from the same MAC. Any web process can
then store the conversation from the token alone: at the first message, or when the widget
uploads an image first. Once stored, the token is found by its hash like any other.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid

from django.utils.crypto import constant_time_compare, salted_hmac

_NONCE_BYTES = 18
_MAC_BYTES = 12
# 30 bytes in URL-safe base64 without padding: exactly one spelling per token.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{40}")
_SALT = "conversations.conversation_tokens"


def _digest(chatbot_id: str, nonce: bytes) -> bytes:
    return salted_hmac(_SALT, chatbot_id.encode() + b"\0" + nonce, algorithm="sha256").digest()


def _conversation_id(digest: bytes) -> uuid.UUID:
    # The token shows the digest's first bytes; the id is made of others.
    return uuid.UUID(bytes=digest[16:32], version=4)


def conversation_token_mint(*, chatbot_id: str) -> tuple[uuid.UUID, str]:
    """The id and resume token of a new conversation of `chatbot_id`, with no row yet."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    digest = _digest(chatbot_id, nonce)
    token = base64.urlsafe_b64encode(nonce + digest[:_MAC_BYTES]).decode()
    return _conversation_id(digest), token


def conversation_token_id(*, chatbot_id: str, token: str) -> uuid.UUID | None:
    """The conversation id of a token `conversation_token_mint` made for `chatbot_id`, or None."""
    if not _TOKEN.fullmatch(token):
        return None
    raw = base64.urlsafe_b64decode(token)
    nonce, mac = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    digest = _digest(chatbot_id, nonce)
    if not constant_time_compare(mac, digest[:_MAC_BYTES]):
        return None
    return _conversation_id(digest)
