"""Shopper verification, done in code and never by the LLM.

An order's details are used only when its number matched and the shopper's email or postcode
matches the order's. Every failure, whatever its reason, counts against the conversation and the
client's IP: at most `ORDER_LOOKUP_MAX_FAILURES` per hour each.
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from tracking.extraction import OrderVariables, normalise_postcode
from tracking.orders import Order


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def shopper_matches(order: Order, variables: OrderVariables) -> str:
    """How the shopper was verified ("email" or "postcode"), or "" when nothing matched."""
    if _same(variables.email.strip().lower(), order.customer_email.strip().lower()):
        return "email"
    if _same(normalise_postcode(variables.postcode), normalise_postcode(order.postcode)):
        return "postcode"
    return ""


def _keys(conversation_id: str, ip: str) -> list[str]:
    hour = int(time.time() // 3600)
    # The IP is hashed with the secret key: the counter needs no readable address.
    ip_hash = hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:24]
    keys = [f"order-fail:ip:{ip_hash}:{hour}"]
    if conversation_id:
        keys.append(f"order-fail:conv:{conversation_id}:{hour}")
    return keys


def failures_exhausted(*, conversation_id: str, ip: str) -> bool:
    limit = settings.ORDER_LOOKUP_MAX_FAILURES
    return any((cache.get(key) or 0) >= limit for key in _keys(conversation_id, ip))


def failure_record(*, conversation_id: str, ip: str) -> None:
    for key in _keys(conversation_id, ip):
        if not cache.add(key, 1, timeout=3600):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=3600)
