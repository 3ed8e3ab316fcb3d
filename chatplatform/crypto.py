"""Encryption of stored secrets with Fernet keys from `FIELD_ENCRYPTION_KEY`.

The setting is a list: the first key encrypts, every key decrypts, so a new key can be put in
front, `manage.py rotate_encryption_keys` run, and the old key dropped afterwards.
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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
