"""What the order-tracking flow says without the LLM, in the chatbot's language."""

from typing import Any

REPLIES: dict[str, dict[str, str]] = {
    "ask_order_number": {
        "da": "Det hjælper jeg gerne med. Hvad er dit ordrenummer? Det står i din ordrebekræftelse.",
        "en": "Happy to help. What is your order number? You find it in your order confirmation.",
        "sv": "Jag hjälper gärna till. Vad är ditt ordernummer? Det står i din orderbekräftelse.",
        "de": "Gerne. Wie lautet Ihre Bestellnummer? Sie steht in Ihrer Bestellbestätigung.",
    },
    "ask_identity": {
        "da": "Tak. For din sikkerhed: hvilken e-mailadresse eller hvilket postnummer brugte du ved bestillingen?",
        "en": "Thanks. For your safety: which email address or postcode did you use for the order?",
        "sv": "Tack. För din säkerhet: vilken e-postadress eller vilket postnummer angav du vid beställningen?",
        "de": "Danke. Zu Ihrer Sicherheit: Welche E-Mail-Adresse oder Postleitzahl haben Sie bei der Bestellung angegeben?",
    },
    "not_verified": {
        "da": "Jeg kan ikke finde en ordre med det ordrenummer og den e-mail eller det postnummer. "
        "Tjek venligst oplysningerne og prøv igen.",
        "en": "I cannot find an order with that order number and that email or postcode. "
        "Please check the details and try again.",
        "sv": "Jag hittar ingen order med det ordernumret och den e-postadressen eller det postnumret. "
        "Kontrollera uppgifterna och försök igen.",
        "de": "Ich finde keine Bestellung mit dieser Bestellnummer und dieser E-Mail-Adresse oder "
        "Postleitzahl. Bitte prüfen Sie die Angaben.",
    },
    "too_many_attempts": {
        "da": "Der har været for mange forsøg. Prøv igen om en time, eller kontakt vores kundeservice.",
        "en": "There have been too many attempts. Please try again in an hour or contact customer service.",
        "sv": "Det har varit för många försök. Försök igen om en timme eller kontakta kundtjänst.",
        "de": "Zu viele Versuche. Bitte versuchen Sie es in einer Stunde erneut oder kontaktieren Sie den Kundenservice.",
    },
    "unavailable": {
        "da": "Jeg kan ikke slå ordrer op lige nu. Prøv igen om lidt, eller kontakt vores kundeservice.",
        "en": "I cannot look orders up right now. Please try again shortly or contact customer service.",
        "sv": "Jag kan inte slå upp ordrar just nu. Försök igen om en stund eller kontakta kundtjänst.",
        "de": "Ich kann Bestellungen gerade nicht abrufen. Bitte versuchen Sie es gleich noch einmal.",
    },
}

STATUS_WORDS = {
    "da": {
        "received": "modtaget og venter på at blive pakket",
        "packed": "pakket og venter på fragtfirmaet",
        "shipped": "afsendt",
        "delivered": "leveret",
        "cancelled": "annulleret",
        "unknown": "under behandling",
    },
    "en": {
        "received": "received and waiting to be packed",
        "packed": "packed and waiting for the carrier",
        "shipped": "shipped",
        "delivered": "delivered",
        "cancelled": "cancelled",
        "unknown": "being processed",
    },
}

ORDER_SENTENCES = {
    "da": {
        "status": "Din ordre {number} er {status}.",
        "shipment": "Den er sendt med {carrier}, og du kan følge pakken her: {url}",
        "shipment_no_url": "Den er sendt med {carrier} med sporingsnummer {tracking_number}.",
        "items": "Ordren indeholder: {items}.",
    },
    "en": {
        "status": "Your order {number} is {status}.",
        "shipment": "It was sent with {carrier}; you can follow the parcel here: {url}",
        "shipment_no_url": "It was sent with {carrier} with tracking number {tracking_number}.",
        "items": "The order contains: {items}.",
    },
}


def reply(key: str, language: str) -> str:
    texts = REPLIES[key]
    return texts.get(language, texts["en"])


def order_answer_text(facts: dict[str, Any], language: str) -> str:
    """A plain answer from the verified order's facts, for the local provider."""
    lang = language if language in ORDER_SENTENCES else "en"
    sentences = ORDER_SENTENCES[lang]
    words = STATUS_WORDS.get(lang, STATUS_WORDS["en"])
    parts = [
        sentences["status"].format(number=facts["number"], status=words.get(facts["status"], facts["status"]))
    ]
    for shipment in facts["shipments"]:
        if shipment["tracking_url"]:
            parts.append(
                sentences["shipment"].format(carrier=shipment["carrier"], url=shipment["tracking_url"])
            )
        elif shipment["tracking_number"]:
            parts.append(
                sentences["shipment_no_url"].format(
                    carrier=shipment["carrier"], tracking_number=shipment["tracking_number"]
                )
            )
    if facts["items"]:
        items = ", ".join(f"{item['quantity']} × {item['name']}" for item in facts["items"])
        parts.append(sentences["items"].format(items=items))
    return " ".join(parts)
