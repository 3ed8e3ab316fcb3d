"""Order lookup: find the order in the shop's system and verify the shopper, then log it."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from enum import StrEnum

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from chatplatform import telemetry
from chatplatform.errors import ApplicationError
from conversations.models import ChatbotSettings
from tracking.clients.base import OrderClientError
from tracking.clients.registry import client_for
from tracking.extraction import OrderVariables, order_number_format_of
from tracking.models import CommerceIntegration, OrderLookup
from tracking.orders import Order
from tracking.verification import failure_record, failures_exhausted, shopper_matches

logger = logging.getLogger(__name__)

HIDDEN_ORDER_NUMBER = "•••"
# Lookups of the chat that may wait for shops' systems at the same time, per process.
LOOKUP_THREADS = 8
_executor: ThreadPoolExecutor | None = None


class LookupOutcome(StrEnum):
    VERIFIED = OrderLookup.Outcome.VERIFIED
    NOT_VERIFIED = OrderLookup.Outcome.NOT_VERIFIED
    TOO_MANY_ATTEMPTS = OrderLookup.Outcome.TOO_MANY_ATTEMPTS
    ERROR = OrderLookup.Outcome.ERROR
    NO_INTEGRATION = OrderLookup.Outcome.NO_INTEGRATION


@dataclass(frozen=True)
class LookupResult:
    outcome: LookupOutcome
    order: Order | None = None
    error_code: str = ""


def order_hint(number: str) -> str:
    """The order number masked for logs: its last 2 characters at most (`•••45`), so staff can
    match a shopper's complaint to a row but nobody can look the order up from the log. The
    mask has one length, so it does not tell the number's length either."""
    if len(number) <= 4:
        return HIDDEN_ORDER_NUMBER
    return f"{HIDDEN_ORDER_NUMBER}{number[-2:]}"


def integration_for(chatbot: ChatbotSettings) -> CommerceIntegration | None:
    # With its chatbot: the lookup threads read it without a query of their own.
    return (
        CommerceIntegration.objects.filter(chatbot=chatbot, is_enabled=True).select_related("chatbot").first()
    )


def order_lookup(
    *,
    chatbot: ChatbotSettings,
    variables: OrderVariables,
    conversation_id: str = "",
    ip: str = "",
    channel: str = "chat",
) -> LookupResult:
    """Look the order up and verify the shopper. "No such order" and "details do not match"
    are the same outcome, so a lookup never reveals whether an order number exists."""
    started = time.perf_counter()
    integration, refused = _lookup_allowed(chatbot=chatbot, conversation_id=conversation_id, ip=ip)
    result = refused or _lookup(integration, variables)
    _lookup_record(
        chatbot=chatbot,
        variables=variables,
        result=result,
        conversation_id=conversation_id,
        ip=ip,
        channel=channel,
        started=started,
    )
    return result


async def order_lookup_async(
    *,
    chatbot: ChatbotSettings,
    variables: OrderVariables,
    conversation_id: str = "",
    ip: str = "",
    channel: str = "chat",
) -> LookupResult:
    """`order_lookup` for the event loop. The shop's system (up to `TRACKING_HTTP_BUDGET_SECONDS`)
    is asked on the lookup threads, never on Django's shared sync thread, which every websocket
    connect and database call of the chat waits for; only the short reads and the log row go
    there."""
    started = time.perf_counter()
    integration, refused = await database_sync_to_async(_lookup_allowed)(
        chatbot=chatbot, conversation_id=conversation_id, ip=ip
    )
    result = refused or await sync_to_async(_lookup, thread_sensitive=False, executor=_lookup_threads())(
        integration, variables
    )
    await database_sync_to_async(_lookup_record)(
        chatbot=chatbot,
        variables=variables,
        result=result,
        conversation_id=conversation_id,
        ip=ip,
        channel=channel,
        started=started,
    )
    return result


def _lookup_threads() -> ThreadPoolExecutor:
    """The threads that wait for shops' systems: bounded, so a slow shop holds at most these."""
    global _executor  # created on first use, in the process that serves chats
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="order-lookups")
    return _executor


def _lookup_allowed(
    *, chatbot: ChatbotSettings, conversation_id: str, ip: str
) -> tuple[CommerceIntegration | None, LookupResult | None]:
    """The integration to ask, or the result of a lookup refused before asking it."""
    integration = integration_for(chatbot)
    if integration is None:
        return None, LookupResult(LookupOutcome.NO_INTEGRATION)
    if failures_exhausted(conversation_id=conversation_id, ip=ip):
        return integration, LookupResult(LookupOutcome.TOO_MANY_ATTEMPTS)
    return integration, None


def _lookup_record(
    *,
    chatbot: ChatbotSettings,
    variables: OrderVariables,
    result: LookupResult,
    conversation_id: str,
    ip: str,
    channel: str,
    started: float,
) -> None:
    """Count a failure against the conversation and the IP, and log the lookup for staff."""
    if result.outcome == LookupOutcome.NOT_VERIFIED:
        failure_record(conversation_id=conversation_id, ip=ip)
    verified_by = shopper_matches(result.order, variables) if result.order else ""
    OrderLookup.objects.create(
        chatbot=chatbot,
        conversation_id=conversation_id or None,
        channel=channel,
        order_hint=order_hint(variables.order_number),
        verified_by=verified_by,
        outcome=result.outcome,
        error_code=result.error_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def order_number_as_shop_writes(integration: CommerceIntegration, order_number: str) -> str:
    """The number in the integration's declared format (`NV-######`), or as given without one."""
    shop_format = order_number_format_of(integration.order_number_format)
    return shop_format.normalise(order_number) if shop_format is not None else order_number


def order_number_format_for(chatbot: ChatbotSettings) -> str:
    """The declared order-number format of the chatbot's enabled integration ("" when none)."""
    return (
        CommerceIntegration.objects.filter(chatbot=chatbot, is_enabled=True)
        .values_list("order_number_format", flat=True)
        .first()
        or ""
    )


def _lookup(integration: CommerceIntegration, variables: OrderVariables) -> LookupResult:
    """Ask the shop's system (network only: runs on the lookup threads for the chat)."""
    try:
        with (
            telemetry.context(
                tenant_type="chatbot", tenant_id=integration.chatbot.chatbot_id, feature="order_lookup"
            ),
            closing(client_for(integration)) as client,
        ):
            order = client.fetch_order(order_number_as_shop_writes(integration, variables.order_number))
    except OrderClientError as exc:
        logger.warning("Order lookup for chatbot %s failed: %s", integration.chatbot.chatbot_id, exc.code)
        return LookupResult(LookupOutcome.ERROR, error_code=exc.code)
    if order is None or not shopper_matches(order, variables):
        return LookupResult(LookupOutcome.NOT_VERIFIED)
    return LookupResult(LookupOutcome.VERIFIED, order=order)


LOOKUP_ERRORS = {
    LookupOutcome.NOT_VERIFIED: (
        "order_not_found",
        "No order matches that order number together with that email or postcode.",
        404,
    ),
    LookupOutcome.TOO_MANY_ATTEMPTS: (
        "too_many_attempts",
        "Too many failed lookups; try again in an hour.",
        429,
    ),
    LookupOutcome.NO_INTEGRATION: (
        "no_commerce_integration",
        "This chatbot has no enabled commerce integration.",
        409,
    ),
}


def order_lookup_or_raise(**kwargs) -> Order:
    """`order_lookup` for the REST API: the verified order, or an ApplicationError."""
    result = order_lookup(**kwargs)
    if result.outcome == LookupOutcome.VERIFIED and result.order is not None:
        return result.order
    if result.outcome == LookupOutcome.ERROR:
        permanent = result.error_code in {"order_auth_failed", "order_misconfigured"}
        raise ApplicationError(
            result.error_code,
            "The shop's order system could not be asked right now."
            if not permanent
            else "The shop's order system refused the request; staff must check the integration.",
            status_code=502 if permanent else 503,
        )
    code, message, status = LOOKUP_ERRORS[result.outcome]
    raise ApplicationError(code, message, status_code=status)
