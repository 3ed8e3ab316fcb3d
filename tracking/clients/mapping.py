"""Turn any JSON order document into an `Order` with JMESPath expressions and a status map.

Used by the generic HTTP client (mapping from the integration's options) and the distributor
client (a fixed mapping). Field names:

| field | selects | relative to |
|---|---|---|
| `order` (optional) | the order object; nothing there means "no such order" | the response |
| `number` (required) | the order number, compared with the one asked for | the order |
| `status` (required) | the shop's own status word, mapped by the status map | the order |
| `placed_at`, `email`, `postcode` | ISO 8601 / epoch date, verification fields | the order |
| `items` | a list of line items | the order |
| `item_name`, `item_quantity`, `item_sku` | one line's values | each item |
| `shipments` | a list of shipments | the order |
| `shipment_carrier`, `shipment_tracking_number`, | one shipment's values | each shipment |
| `shipment_tracking_url` | | |
"""

from collections.abc import Mapping
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from tracking.carriers import tracking_url
from tracking.clients.base import OrderClientError
from tracking.clients.support import as_quantity, as_text, parse_timestamp
from tracking.orders import LineItem, Order, OrderStatus, Shipment

ORDER_FIELDS = ("order", "number", "status", "placed_at", "email", "postcode", "items", "shipments")
ITEM_FIELDS = ("item_name", "item_quantity", "item_sku")
SHIPMENT_FIELDS = ("shipment_carrier", "shipment_tracking_number", "shipment_tracking_url")
MAPPING_FIELDS = ORDER_FIELDS + ITEM_FIELDS + SHIPMENT_FIELDS
REQUIRED_FIELDS = ("number", "status")

# What a shop's status words may be mapped to; `unknown` is what an unmapped word becomes.
STATUS_CHOICES = tuple(status.value for status in OrderStatus if status is not OrderStatus.UNKNOWN)


def normalise_number(value: Any) -> str:
    """Order numbers compare without surrounding space and case: " a-1001" is "A-1001"."""
    return as_text(value).casefold()


def normalise_status_word(value: Any) -> str:
    return " ".join(as_text(value).casefold().split())


def _parse_error(exc: JMESPathError) -> str:
    # The library's message spans lines (expression and a caret); the first line says what is wrong.
    return str(exc).splitlines()[0].rstrip(":").strip() or type(exc).__name__


def mapping_errors(mapping: Any, status_map: Any) -> list[str]:
    """Every problem with a mapping and status map, each naming its field; [] when usable."""
    if not isinstance(mapping, Mapping):
        return ["mapping: use a JSON object of field name to JMESPath expression."]
    problems = [
        f"mapping.{field}: unknown field; use {', '.join(MAPPING_FIELDS)}."
        for field in sorted(set(mapping) - set(MAPPING_FIELDS))
    ]
    problems.extend(
        f"mapping.{field}: a JMESPath expression is required."
        for field in REQUIRED_FIELDS
        if not mapping.get(field)
    )
    for field in MAPPING_FIELDS:
        expression = mapping.get(field)
        if expression in (None, ""):
            continue
        if not isinstance(expression, str):
            problems.append(f"mapping.{field}: the expression must be text.")
            continue
        try:
            jmespath.compile(expression)
        except JMESPathError as exc:
            problems.append(f"mapping.{field}: invalid JMESPath {expression!r}: {_parse_error(exc)}.")
    for parent, children, needed in (
        ("items", ITEM_FIELDS, "item_name"),
        ("shipments", SHIPMENT_FIELDS, "shipment_tracking_number"),
    ):
        used = [child for child in children if mapping.get(child)]
        if used and not mapping.get(parent):
            problems.append(f"mapping.{parent}: needed by {', '.join(used)}.")
        if mapping.get(parent) and not mapping.get(needed):
            problems.append(f"mapping.{needed}: needed when mapping.{parent} is set.")
    problems.extend(status_map_errors(status_map))
    return problems


def status_map_errors(status_map: Any) -> list[str]:
    if status_map in (None, ""):
        return []
    if not isinstance(status_map, Mapping):
        return ["status_map: use a JSON object of the shop's status to one of " + ", ".join(STATUS_CHOICES)]
    return [
        f"status_map.{raw}: {target!r} is not one of {', '.join(STATUS_CHOICES)}."
        for raw, target in status_map.items()
        if target not in STATUS_CHOICES
    ]


class OrderMapping:
    """A validated mapping, compiled once per client."""

    def __init__(
        self,
        mapping: Mapping[str, str],
        status_map: Mapping[str, str] | None = None,
        tracking_templates: Mapping[str, str] | None = None,
        *,
        system: str,
    ) -> None:
        self.expressions: dict[str, ParsedResult] = {
            field: jmespath.compile(expression)
            for field, expression in mapping.items()
            if field in MAPPING_FIELDS and expression
        }
        self.status_map = {
            normalise_status_word(raw): OrderStatus(target) for raw, target in (status_map or {}).items()
        }
        self.tracking_templates = dict(tracking_templates or {})
        self.system = system

    def _get(self, field: str, document: Any) -> Any:
        expression = self.expressions.get(field)
        return expression.search(document) if expression is not None else None

    def status(self, raw: str) -> OrderStatus:
        """The mapped status; a word that already is a normalised status needs no mapping."""
        word = normalise_status_word(raw)
        if word in self.status_map:
            return self.status_map[word]
        return OrderStatus(word) if word in STATUS_CHOICES else OrderStatus.UNKNOWN

    def order(self, document: Any, requested: str) -> Order | None:
        """The order in `document`, or None when it is absent or is another order."""
        root = self._get("order", document) if "order" in self.expressions else document
        if root in (None, "", [], {}):
            return None
        number = as_text(self._get("number", root))
        if not number:
            raise OrderClientError(
                "order_bad_response",
                f"{self.system} answered without an order number where the mapping expects one.",
            )
        # Some APIs answer a search with the nearest match; only the exact order counts.
        if normalise_number(number) != normalise_number(requested):
            return None
        raw_status = as_text(self._get("status", root))
        return Order(
            number=number,
            status=self.status(raw_status),
            raw_status=raw_status,
            placed_at=parse_timestamp(self._get("placed_at", root)),
            items=tuple(self._items(root)),
            shipments=tuple(self._shipments(root)),
            customer_email=as_text(self._get("email", root)),
            postcode=as_text(self._get("postcode", root)),
        )

    def _each(self, field: str, root: Any) -> list[Any]:
        found = self._get(field, root)
        if found is None:
            return []
        return found if isinstance(found, list) else [found]

    def _items(self, root: Any) -> list[LineItem]:
        items = []
        for line in self._each("items", root):
            name = as_text(self._get("item_name", line))
            sku = as_text(self._get("item_sku", line))
            if name or sku:
                items.append(
                    LineItem(name=name, quantity=as_quantity(self._get("item_quantity", line)), sku=sku)
                )
        return items

    def _shipments(self, root: Any) -> list[Shipment]:
        shipments = []
        for parcel in self._each("shipments", root):
            carrier = as_text(self._get("shipment_carrier", parcel))
            number = as_text(self._get("shipment_tracking_number", parcel))
            given = as_text(self._get("shipment_tracking_url", parcel))
            # The link is shown to the shopper: only web links, never javascript: or similar.
            if not given.lower().startswith(("https://", "http://")):
                given = ""
            if number or given:
                shipments.append(
                    Shipment(
                        carrier=carrier,
                        tracking_number=number,
                        tracking_url=tracking_url(carrier, number, self.tracking_templates, given),
                    )
                )
        return shipments
