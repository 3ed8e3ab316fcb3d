import pytest

from chatplatform.personal_data import redact_personal


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("skriv til anna@example.dk tak", "skriv til [email] tak"),
        ("ring på +45 21 43 65 87", "ring på [phone]"),
        ("ring på 21 43 65 87 eller 2143 6587", "ring på [phone] eller [phone]"),
        ("mit nummer: 21436587", "mit nummer: [phone]"),
        ("Tlf. nr: 21 43 65 87", "Tlf. nr: [phone]"),
        ("phone number is +4521436587", "phone number is [phone]"),
        ("Nørrebrogade 10, 2200 København N", "Nørrebrogade 10, [postcode] København N"),
        ("Nørrebrogade 10\n2200 København N", "Nørrebrogade 10\n[postcode] København N"),
        ("DK-2200 København", "[postcode] København"),
        ("postnummer 2200 og telefon", "postnummer [postcode] og telefon"),
        ("postcode SW1A 1AA please", "postcode [postcode] please"),
        ("2200", "[postcode]"),
    ],
)
def test_emails_phone_numbers_and_postcodes_are_redacted(text, redacted):
    assert redact_personal(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "Hvor er min ordre NV-100234?",
        "ordre 000123456, #12345678 og NV-12345678",
        "Hvad koster fragt til Bornholm over 900 kr.?",
        "Har I Barolo fra 2019? 6 flasker til 1.299,00 kr",
        "Prisen er 12.345.678 kr",
    ],
)
def test_order_numbers_prices_and_years_are_kept(text):
    assert redact_personal(text) == text
