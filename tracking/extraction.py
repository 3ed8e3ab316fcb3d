"""Order number, email and postcode from what the shopper wrote (the old "ApiVarFlow").

Local rules always run. With the `openai` provider the LLM is asked too (JSON mode, re-asked once
on invalid JSON) for an order number written in a way the rules miss; it never sees emails,
postcodes or phone numbers (`redact_personal` removes them, and the email and postcode are the
rules' alone to find), and its answer counts only when it passes the same format check. The
latest mention wins: a shopper who corrects an email is believed.
"""

import logging
import re
from dataclasses import dataclass, replace

from chatplatform.ai.base import ChatProvider, ProviderError
from chatplatform.personal_data import EMAIL, POSTCODE_ALONE, POSTCODE_CUE, redact_personal

logger = logging.getLogger(__name__)

# Order numbers: letters-prefixed (NV-100234, #1001 in Shopify, 000000123 in Magento). A bare
# run of 5+ digits also counts, unless it looks like a phone number or postcode.
ORDER_NUMBER = re.compile(r"(?<![\w@.-])(#?[A-Z]{1,5}-?\d{3,12}|#\d{3,12}|\d{6,12})(?![\w@-])", re.IGNORECASE)
PHONE_LIKE = re.compile(r"^\+?\d{8}$")


@dataclass(frozen=True)
class OrderVariables:
    order_number: str = ""
    email: str = ""
    postcode: str = ""

    def merged(self, newer: "OrderVariables") -> "OrderVariables":
        return OrderVariables(
            order_number=newer.order_number or self.order_number,
            email=newer.email or self.email,
            postcode=newer.postcode or self.postcode,
        )

    @property
    def missing(self) -> str:
        """What to ask for next: "order_number", "identity", or "" when complete."""
        if not self.order_number:
            return "order_number"
        if not (self.email or self.postcode):
            return "identity"
        return ""


def normalise_order_number(value: str) -> str:
    return value.strip().lstrip("#").upper()


def normalise_postcode(value: str) -> str:
    return re.sub(r"\s+", "", value).upper()


def _order_number(text: str, email_spans: list[tuple[int, int]]) -> str:
    found = ""
    for match in ORDER_NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in email_spans):
            continue
        value = match.group(1)
        if value.isdigit() and (PHONE_LIKE.match(value) or len(value) < 6):
            continue
        found = value
    return normalise_order_number(found) if found else ""


def extract_from_text(text: str) -> OrderVariables:
    emails = list(EMAIL.finditer(text))
    spans = [(m.start(), m.end()) for m in emails]
    postcode = ""
    cue = list(POSTCODE_CUE.finditer(text))
    if cue:
        postcode = cue[-1].group(1)
    else:
        alone = POSTCODE_ALONE.match(text)
        if alone:
            postcode = alone.group(1)
    order_number = _order_number(text, spans)
    if postcode and normalise_postcode(postcode) == order_number:
        order_number = ""
    return OrderVariables(
        order_number=order_number,
        email=emails[-1].group(0).lower() if emails else "",
        postcode=normalise_postcode(postcode) if postcode else "",
    )


def extract_local(messages: list[str]) -> OrderVariables:
    """Variables from the shopper's messages, oldest first; later mentions override earlier."""
    variables = OrderVariables()
    for text in messages:
        variables = variables.merged(extract_from_text(text))
    return variables


def _checked(value: object, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    match = pattern.search(value.strip())
    return match.group(0) if match else ""


async def extract_with_llm(
    *, provider: ChatProvider, system: str, messages: list[str], local: OrderVariables
) -> OrderVariables:
    """Ask the LLM, keep only well-formed values, and fall back to the local result."""
    # Emails and postcodes never go to the LLM: the local rules have already found them.
    transcript = "\n".join(f"Customer: {redact_personal(text)}" for text in messages[-10:])
    try:
        result = await provider.complete_json(system=system, user=transcript)
    except ProviderError as exc:
        logger.info("Order variable extraction by the LLM failed (%s); using local rules", exc.code)
        return local
    if not isinstance(result, dict):
        return local
    number = _checked(result.get("order_number"), ORDER_NUMBER)
    from_llm = OrderVariables(order_number=normalise_order_number(number) if number else "")
    # What the rules found in the newest message is the most reliable, so it wins.
    newest = extract_from_text(messages[-1]) if messages else OrderVariables()
    return replace(local.merged(from_llm).merged(newest))
