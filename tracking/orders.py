"""The one order shape every commerce client returns, whatever the shop's system calls things."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class OrderStatus(StrEnum):
    """Normalised statuses, as the shops explain them to customers."""

    RECEIVED = "received"  # paid, waiting to be packed
    PACKED = "packed"  # packed, waiting for the carrier
    SHIPPED = "shipped"  # with the carrier
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: int
    sku: str = ""


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str = ""


@dataclass(frozen=True)
class Order:
    """An order as found in the shop's system.

    `customer_email` and `postcode` are there to verify the shopper and nothing else: they never
    reach a prompt, a log, analytics or an API response (`facts()` leaves them out).
    """

    number: str
    status: OrderStatus
    raw_status: str
    placed_at: datetime | None = None
    items: tuple[LineItem, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    customer_email: str = field(default="", repr=False)
    postcode: str = field(default="", repr=False)

    def facts(self) -> dict[str, Any]:
        """What may be shown to the verified shopper and given to the LLM."""
        return {
            "number": self.number,
            "status": self.status.value,
            "raw_status": self.raw_status,
            "placed_at": self.placed_at.isoformat() if self.placed_at else None,
            "items": [{"name": i.name, "quantity": i.quantity, "sku": i.sku} for i in self.items],
            "shipments": [
                {"carrier": s.carrier, "tracking_number": s.tracking_number, "tracking_url": s.tracking_url}
                for s in self.shipments
            ],
        }
