"""Encryption of stored secrets with Fernet keys from `FIELD_ENCRYPTION_KEY`.

The setting is a list: the first key encrypts, every key decrypts, so a new key can be put in
front, `manage.py rotate_encryption_keys` run, and the old key dropped afterwards.
"""

import base64
import binascii
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Every Fernet token starts with the version byte 0x80 and a timestamp's zero high bytes.
_TOKEN_TEXT = re.compile(r"gAAAAA[A-Za-z0-9_-]+={0,2}")


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY has no keys.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be a comma-separated list of Fernet keys "
            "(32 url-safe base64-encoded bytes each)."
        ) from exc


def _fernet() -> MultiFernet:
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEY."
        ) from exc


def looks_encrypted(value: str) -> bool:
    """Is `value` shaped like a Fernet token (version byte, timestamp, IV, whole AES blocks and
    HMAC)? A Pinecone key, a JSON object of credentials or any other secret a person types never
    is, so a value read from a fixture can be told from plaintext."""
    if not _TOKEN_TEXT.fullmatch(value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value)
    except (binascii.Error, ValueError):
        return False
    # 1 version + 8 timestamp + 16 IV + n * 16 ciphertext + 32 HMAC bytes.
    return raw[0] == 0x80 and len(raw) >= 73 and (len(raw) - 57) % 16 == 0


def rotate(token: str) -> str:
    """Re-encrypt a token with the first key (it must be readable with one of the keys)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("A stored secret cannot be decrypted with any configured key.") from exc


def mask(secret: str) -> str:
    """A hint that lets staff recognise a secret without revealing it."""
    if not secret:
        return ""
    if len(secret) <= 10:
        return "•" * 8
    return f"{secret[:4]}{'•' * 8}{secret[-2:]}"
