"""A shop's order-number format, and what a shopper wrote normalised to it.

A format is the number as the shop prints it with `#` for each digit: `NV-######`, `#####`,
`WEB######`. Shoppers drop the hyphen ("NV100234"), the prefix ("100234"), add spaces
("NV 100 234") or type another dash (an en dash); with the format known, all of these are the
same order, and the lookup asks the shop for the number as the shop writes it.
"""

import functools
import re
from dataclasses import dataclass

_FORMAT = re.compile(r"^[A-Za-z0-9 #_/.-]*#[A-Za-z0-9 #_/.-]*$")
_DASHES = "-–—‐‑"


class OrderNumberFormatError(ValueError):
    """The format is not letters, separators and `#` digits with at least one `#`."""


@dataclass(frozen=True)
class OrderNumberFormat:
    pattern: str
    # The letters and digits before the first `#`, upper-case ("NV"), and the number of digits.
    prefix: str
    digits: int
    # Finds the number in free text, written any of the ways above (group "digits").
    finder: re.Pattern[str]

    def render(self, digits: str) -> str:
        """The shop's spelling of the number made of `digits`."""
        it = iter(digits)
        return "".join(next(it) if char == "#" else char for char in self.pattern)

    def normalise(self, value: str) -> str:
        """`value` in the shop's spelling when it is that shop's number, else `value` unchanged."""
        match = self.finder.fullmatch(value.strip())
        return self.render(re.sub(r"\D", "", match.group("digits"))) if match else value


def format_validate(pattern: str) -> None:
    if pattern and not _FORMAT.match(pattern):
        raise OrderNumberFormatError(
            "An order-number format is the number as the shop writes it with # for each digit, "
            "for example NV-######."
        )
    if pattern and "#" in pattern.split("#", 1)[1].lstrip("#"):
        raise OrderNumberFormatError("The digits (#) of an order-number format must stand together.")


@functools.lru_cache(maxsize=256)
def order_number_format(pattern: str) -> OrderNumberFormat | None:
    """The parsed format, or None for "" (the shop has not declared one)."""
    pattern = (pattern or "").strip()
    if not pattern:
        return None
    format_validate(pattern)
    head, _, tail = pattern.partition("#")
    digits = pattern.count("#")
    prefix = re.sub(r"[^A-Za-z0-9]", "", head).upper()
    suffix = re.sub(r"[^A-Za-z0-9]", "", tail.lstrip("#")).upper()
    # The prefix is optional, and may be followed by any dash or spaces; the digits may be
    # grouped with single spaces ("100 234") but never run on into more digits (a phone number).
    prefix_re = rf"(?:{re.escape(prefix)}\s*[{_DASHES}]?\s*)?" if prefix else ""
    suffix_re = rf"(?:\s*[{_DASHES}]?\s*{re.escape(suffix)})?" if suffix else ""
    digits_re = rf"\d(?: ?\d){{{digits - 1}}}" if digits > 1 else r"\d"
    finder = re.compile(
        rf"(?<![\w@.+])(?<!\d )#?\s?{prefix_re}(?P<digits>{digits_re}){suffix_re}(?! ?\d)(?![\w@])",
        re.IGNORECASE,
    )
    return OrderNumberFormat(pattern, prefix, digits, finder)
