"""Words that describe the usual topics of a shop's conversations, in Danish and English: the
description a topic gets when it is seeded from a chatbot's `topics` list under one of these
names (staff edit it in admin). The local judge compares conversations with these words, which
a topic's name alone gives too few of."""

TOPIC_WORDS = {
    "levering": "levering levere leverer leveringstid fragt forsendelse sende pakke pakken pakkeshop "
    "GLS PostNord Bornholm hjemme døren delivery shipping parcel",
    "returnering": "returnering retur returnere bytte fortryde fortrydelsesret knust defekt "
    "refusion pengene tilbage reklamation return refund exchange broken",
    "betaling": "betaling betale MobilePay kort Visa Mastercard faktura rabatkode gavekort pris "
    "moms payment pay card invoice",
    "produktrådgivning": "anbefale anbefaling vin vine rødvin hvidvin rosé bobler champagne "
    "druesort smag årgang producent lagring product advice recommend wine grape",
    "vin til mad": "mad ret passer til servere kød oksekød lam fisk skaldyr ost dessert "
    "julemad middag food pairing dinner",
    "ordrestatus": "ordre ordrenummer bestilling status afsendt sporing track trace hvor er min "
    "order tracking shipped",
    "arrangementer": "arrangement arrangementer vinsmagning smagning event kursus billet "
    "billetter tilmelding firmaarrangement tasting",
    "delivery": "delivery deliver shipping ship parcel courier arrive arrival freight",
    "returns": "return returns refund exchange broken damaged money back",
    "payment": "payment pay card invoice discount code gift card price",
    "order status": "order status tracking shipped where is my order number",
}


def topic_description(name: str) -> str:
    return TOPIC_WORDS.get(name.strip().lower(), "")
