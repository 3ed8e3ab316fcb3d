"""Personal details a shopper may type, and their redaction from anything sent to an AI provider.

One function, `redact_personal`, is applied wherever a shopper's words leave for a provider:
the LLM router, the question's embedding, the answer prompt and its history, the order-variable
extraction and the image description. It removes what rules can recognise locally: emails,
phone numbers (international, Danish 8-digit forms, or after a cue word) and postcodes (after a
cue word, at the start of an address's town line, with a country prefix, or alone in a short
reply). Order numbers are kept: the LLM may need them and they are not personal on their own.
Names and street addresses without these markers are not recognised.
"""

import re

EMAIL = re.compile(r"[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}", re.IGNORECASE)

# Postcodes with a cue word ("postnummer 2100", "zip 10115", "postcode SW1A 1AA") or in the form
# of a Danish/Swedish/German/UK code standing alone in a short reply.
POSTCODE_CUE = re.compile(
    r"(?:post\s*(?:nummer|nr\.?|code|kod)|postnr\.?|zip(?:\s*code)?|plz|postleitzahl)\s*(?:er|is|:)?\s*"
    r"(\d{4,5}|\d{3} \d{2}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})(?!\w)",
    re.IGNORECASE,
)
POSTCODE_ALONE = re.compile(
    r"^\s*(\d{4}|\d{3} ?\d{2}|\d{5}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\s*[.!]?\s*$", re.IGNORECASE
)
# The town line of an address: "Nørrebrogade 10, 2200 København N", or a line of its own. A
# vintage after a comma ("Barolo, 2019 Riserva") is redacted too; that costs the answer little.
POSTCODE_BEFORE_TOWN = re.compile(r"(?:(?<=,)|^)(\s*)\d{4,5}(?=\s+[A-ZÆØÅÄÖÜ])", re.MULTILINE)
POSTCODE_WITH_COUNTRY = re.compile(r"(?<![\w-])(?:DK|SE|DE|NO|FI|D|S|N)-\d{4,5}(?!\w)")

_DIGITS = r"\+?\d(?:[ .-]?\d){5,14}"
PHONE_INTERNATIONAL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\d){6,12}(?!\w)")
PHONE_CUE = re.compile(
    r"(?:tlf|telefon(?:nummer)?|phone(?:\s*number)?|tel|mobil(?:nummer)?|mobile|mob|ring\s+på|"
    r"call\s+me\s+(?:on|at))\.?\s*(?:nr\.?|no\.?|number)?\s*(?:er|is|:)?\s*(" + _DIGITS + ")",
    re.IGNORECASE,
)
# Danish numbers have 8 digits: 12345678, 12 34 56 78, 1234 5678. Order numbers written with a
# prefix (#12345678, NV-12345678) are not touched; the order rules read a bare 8-digit run as a
# phone number too.
PHONE_DANISH = re.compile(
    r"(?<![\w#+.,-])(?:\d{2}[ .-]\d{2}[ .-]\d{2}[ .-]\d{2}|\d{4}[ -]\d{4}|\d{8})(?![\w-]|[.,]\d)"
)


def _group_replaced(placeholder: str):
    def replace(match: re.Match[str]) -> str:
        start, end = match.span(1)
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + placeholder + whole[end - offset :]

    return replace


def redact_personal(text: str) -> str:
    """The text without the emails, phone numbers and postcodes the rules recognise."""
    if POSTCODE_ALONE.match(text):
        return "[postcode]"
    text = EMAIL.sub("[email]", text)
    text = PHONE_CUE.sub(_group_replaced("[phone]"), text)
    text = PHONE_INTERNATIONAL.sub("[phone]", text)
    text = PHONE_DANISH.sub("[phone]", text)
    text = POSTCODE_CUE.sub(_group_replaced("[postcode]"), text)
    text = POSTCODE_WITH_COUNTRY.sub("[postcode]", text)
    return POSTCODE_BEFORE_TOWN.sub(r"\1[postcode]", text)
