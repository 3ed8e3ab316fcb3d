"""Order number, email and postcode from what the shopper wrote (the old "ApiVarFlow").

Local rules always run. A shop that declares its order-number format (`NV-######`, on its
commerce integration) has numbers found however the shopper wrote them (without the hyphen or
prefix, with spaces) and written the shop's way (`order_numbers`). With the `openai` provider
the LLM is asked too (JSON mode, re-asked once
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
from tracking.order_numbers import OrderNumberFormat, order_number_format

logger = logging.getLogger(__name__)

# Order numbers: letters-prefixed (NV-100234, #1001 in Shopify, 000000123 in Magento). A bare
# run of 5+ digits also counts, unless it looks like a phone number or postcode.
ORDER_NUMBER = re.compile(
    r"(?<![\w@.-])(#?[A-Z]{1,5}[-–]?\d{3,12}|#\d{3,12}|\d{6,12})(?![\w@-])", re.IGNORECASE
)
PHONE_LIKE = re.compile(r"^\+?\d{8}$")
# A postcode the rules of `personal_data` miss: after a cue word in its inflected form
# ("postnummeret er 6700"), or on an address's town line, followed by the town
# ("Østergade 4, 8000 Aarhus C", "114 55 Stockholm").
POSTCODE_CUE_MORE = re.compile(
    r"(?:post\s*(?:nummer(?:et)?|nr\.?|code|kod(?:en)?)|zip(?:\s*code)?)\s*(?:er|is|:)?\s*"
    r"(\d{4,5}|\d{3} \d{2})(?!\w)",
    re.IGNORECASE,
)
POSTCODE_TOWN = re.compile(r"(?<![\w@.+#-])(?<!\d )(\d{4,5}|\d{3} \d{2})\s+(?=[A-ZÆØÅÄÖÜ][a-zæøåäöüß]{2,})")


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


def _order_number(
    text: str, email_spans: list[tuple[int, int]], shop_format: OrderNumberFormat | None = None
) -> str:
    if shop_format is not None:
        found = ""
        for match in shop_format.finder.finditer(text):
            if not any(start <= match.start() < end for start, end in email_spans):
                found = shop_format.render(re.sub(r"\D", "", match.group("digits")))
        if found:
            return found
    found = ""
    for match in ORDER_NUMBER.finditer(text):
        if any(start <= match.start() < end for start, end in email_spans):
            continue
        value = match.group(1)
        if value.isdigit() and (PHONE_LIKE.match(value) or len(value) < 6):
            continue
        found = value
    if not found:
        return ""
    value = normalise_order_number(found).replace("–", "-")
    return shop_format.normalise(value) if shop_format is not None else value


def _postcode(text: str, spans: list[tuple[int, int]]) -> str:
    cue = list(POSTCODE_CUE.finditer(text)) or list(POSTCODE_CUE_MORE.finditer(text))
    if cue:
        return cue[-1].group(1)
    alone = POSTCODE_ALONE.match(text)
    if alone:
        return alone.group(1)
    towns = [m for m in POSTCODE_TOWN.finditer(text) if not any(s <= m.start() < e for s, e in spans)]
    return towns[-1].group(1) if towns else ""


def extract_from_text(text: str, *, order_number_format: str = "") -> OrderVariables:
    """The variables of one message; `order_number_format` is the shop's (`NV-######`), if any."""
    emails = list(EMAIL.finditer(text))
    spans = [(m.start(), m.end()) for m in emails]
    shop_format = order_number_format_of(order_number_format)
    order_number = _order_number(text, spans, shop_format)
    if order_number:
        # The order number's own digits are not a postcode ("NV 100 23" would not be either).
        spans = spans + [(m.start(), m.end()) for m in ORDER_NUMBER.finditer(text)]
    postcode = _postcode(text, spans)
    if postcode and normalise_postcode(postcode) == order_number:
        order_number = ""
    return OrderVariables(
        order_number=order_number,
        email=emails[-1].group(0).lower() if emails else "",
        postcode=normalise_postcode(postcode) if postcode else "",
    )


def extract_local(messages: list[str], *, order_number_format: str = "") -> OrderVariables:
    """Variables from the shopper's messages, oldest first; later mentions override earlier."""
    variables = OrderVariables()
    for text in messages:
        variables = variables.merged(extract_from_text(text, order_number_format=order_number_format))
    return variables


def order_number_format_of(pattern: str) -> OrderNumberFormat | None:
    """The parsed format; a malformed one (saved before validation) counts as none."""
    try:
        return order_number_format(pattern)
    except ValueError:
        return None


def _checked(value: object, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        return ""
    match = pattern.search(value.strip())
    return match.group(0) if match else ""


async def extract_with_llm(
    *,
    provider: ChatProvider,
    system: str,
    messages: list[str],
    local: OrderVariables,
    order_number_format: str = "",
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
    if number:
        shop_format = order_number_format_of(order_number_format)
        number = normalise_order_number(number)
        number = shop_format.normalise(number) if shop_format is not None else number
    from_llm = OrderVariables(order_number=number)
    # What the rules found in the newest message is the most reliable, so it wins.
    newest = (
        extract_from_text(messages[-1], order_number_format=order_number_format)
        if messages
        else OrderVariables()
    )
    return replace(local.merged(from_llm).merged(newest))
