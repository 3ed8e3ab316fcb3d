"""Shopper verification, done in code and never by the LLM.

An order's details are used only when its number matched and the shopper's email or postcode
matches the order's. Every failure, whatever its reason, counts against the conversation and the
client's IP: at most `ORDER_LOOKUP_MAX_FAILURES` in any hour (a sliding window) each.
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


# Failures are counted per minute, and the last hour's minutes are summed: a sliding window, so
# that no clock-hour boundary lets twice the limit through. A failure counts for 60 to 61 minutes.
WINDOW_MINUTES = 60
_BUCKET_TIMEOUT = (WINDOW_MINUTES + 2) * 60


def _subjects(conversation_id: str, ip: str) -> list[str]:
    # The IP is hashed with the secret key: the counter needs no readable address.
    ip_hash = hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest()[:24]
    subjects = [f"order-fail:ip:{ip_hash}"]
    if conversation_id:
        subjects.append(f"order-fail:conv:{conversation_id}")
    return subjects


def _minute() -> int:
    return int(time.time() // 60)


def failures_exhausted(*, conversation_id: str, ip: str) -> bool:
    """Whether the conversation or the IP has `ORDER_LOOKUP_MAX_FAILURES` failures in the last hour."""
    limit = settings.ORDER_LOOKUP_MAX_FAILURES
    now = _minute()
    minutes = range(now - WINDOW_MINUTES, now + 1)
    for subject in _subjects(conversation_id, ip):
        counts = cache.get_many([f"{subject}:{minute}" for minute in minutes])
        if sum(int(count) for count in counts.values()) >= limit:
            return True
    return False


def failure_record(*, conversation_id: str, ip: str) -> None:
    minute = _minute()
    for subject in _subjects(conversation_id, ip):
        key = f"{subject}:{minute}"
        if not cache.add(key, 1, timeout=_BUCKET_TIMEOUT):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=_BUCKET_TIMEOUT)
