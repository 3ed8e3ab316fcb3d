import pytest

from chatplatform.ai.base import ProviderError
from tracking.extraction import (
    OrderVariables,
    extract_from_text,
    extract_local,
    extract_with_llm,
    redact_personal,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hvor er min ordre NV-100234?", OrderVariables(order_number="NV-100234")),
        ("where is my order nv-100234", OrderVariables(order_number="NV-100234")),
        ("Order #1001 please", OrderVariables(order_number="1001")),
        ("ordre 000123456", OrderVariables(order_number="000123456")),
        ("anna.hansen@example.dk", OrderVariables(email="anna.hansen@example.dk")),
        ("Min e-mail er Anna@Example.DK", OrderVariables(email="anna@example.dk")),
        ("2100", OrderVariables(postcode="2100")),
        ("Mit postnummer er 3700", OrderVariables(postcode="3700")),
        ("postcode SW1A 1AA", OrderVariables(postcode="SW1A1AA")),
        ("PLZ: 10115", OrderVariables(postcode="10115")),
        ("114 55", OrderVariables(postcode="11455")),
        ("NV-100234 og anna@example.dk", OrderVariables(order_number="NV-100234", email="anna@example.dk")),
        ("ring til mig på 20304050", OrderVariables()),
        ("anna123456@example.dk", OrderVariables(email="anna123456@example.dk")),
        ("Hvad koster fragt til Bornholm?", OrderVariables()),
    ],
)
def test_local_rules_find_order_variables(text, expected):
    assert extract_from_text(text) == expected


def test_the_conversation_so_far_counts_and_the_latest_mention_wins():
    messages = ["Hvor er min ordre NV-100234?", "forkert@example.dk", "Undskyld, det er anna@example.dk"]

    assert extract_local(messages) == OrderVariables(order_number="NV-100234", email="anna@example.dk")


@pytest.mark.parametrize(
    ("variables", "missing"),
    [
        (OrderVariables(), "order_number"),
        (OrderVariables(email="a@b.dk"), "order_number"),
        (OrderVariables(order_number="NV-1"), "identity"),
        (OrderVariables(order_number="NV-1", postcode="2100"), ""),
    ],
)
def test_it_knows_what_to_ask_for(variables, missing):
    assert variables.missing == missing


class JsonProvider:
    name = "openai"

    def __init__(self, result):
        self.result = result

    async def complete_json(self, *, system, user, max_attempts=2):
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


async def test_the_llm_fills_in_only_a_well_formed_order_number():
    local = extract_local(["min ordre er nummer hundrede tusind"])
    provider = JsonProvider({"order_number": "NV-100000", "email": "x@example.dk", "postcode": "2100"})

    found = await extract_with_llm(
        provider=provider, system="x", messages=["min ordre er nummer hundrede tusind"], local=local
    )

    assert found == OrderVariables(order_number="NV-100000")


async def test_the_llm_is_never_shown_emails_or_postcodes():
    seen = {}

    class Recorder(JsonProvider):
        async def complete_json(self, *, system, user, max_attempts=2):
            seen["user"] = user
            return {}

    messages = ["ordre NV-100234", "anna@example.dk", "mit postnummer er 2100", "8000"]
    await extract_with_llm(
        provider=Recorder({}), system="x", messages=messages, local=extract_local(messages)
    )

    assert "NV-100234" in seen["user"]
    assert "anna@example.dk" not in seen["user"]
    assert "2100" not in seen["user"]
    assert "8000" not in seen["user"]


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("min mail er anna@example.dk tak", "min mail er [email] tak"),
        ("Mit postnummer er 3700", "Mit postnummer er [postcode]"),
        ("2100", "[postcode]"),
        ("Hvad koster fragt til Bornholm over 900 kr.?", "Hvad koster fragt til Bornholm over 900 kr.?"),
        ("NV-100234", "NV-100234"),
    ],
)
def test_personal_details_are_redacted_and_the_rest_kept(text, redacted):
    assert redact_personal(text) == redacted


async def test_a_failing_llm_falls_back_to_the_rules():
    local = extract_local(["NV-100234"])

    found = await extract_with_llm(
        provider=JsonProvider(ProviderError("provider_bad_response", "x")),
        system="x",
        messages=["NV-100234"],
        local=local,
    )

    assert found == local


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ordre nv 100234 er ikke kommet", OrderVariables(order_number="NV-100234")),
        ("Mit ordrenummer er NV100235", OrderVariables(order_number="NV-100235")),
        ("Ordrenr. 100 240", OrderVariables(order_number="NV-100240")),
        ("order #100241", OrderVariables(order_number="NV-100241")),
        ("Ring på 20 30 40 50, ordren er NV–100242", OrderVariables(order_number="NV-100242")),
        (
            "Ordre NV-100237, Østergade 4, 8000 Aarhus C",
            OrderVariables(order_number="NV-100237", postcode="8000"),
        ),
        ("postnummeret er 6700", OrderVariables(postcode="6700")),
        ("shipping to 114 55 Stockholm", OrderVariables(postcode="11455")),
        ("tre flasker til 149 kr.", OrderVariables()),
    ],
)
def test_a_shops_order_number_format_finds_numbers_however_they_are_written(text, expected):
    assert extract_from_text(text, order_number_format="NV-######") == expected


def test_without_a_format_numbers_stay_as_written():
    assert extract_from_text("NV100235").order_number == "NV100235"


def test_a_lookup_asks_the_shop_for_the_number_in_its_format():
    from tracking.models import CommerceIntegration
    from tracking.services import order_number_as_shop_writes

    shop = CommerceIntegration(order_number_format="NV-######")

    assert order_number_as_shop_writes(shop, "NV100234") == "NV-100234"
    assert order_number_as_shop_writes(shop, "100234") == "NV-100234"
    assert order_number_as_shop_writes(shop, "WEB-12") == "WEB-12"
    assert order_number_as_shop_writes(CommerceIntegration(), "NV100234") == "NV100234"


@pytest.mark.parametrize("pattern", ["NV-######", "#####", "WEB######", "SO-####-DK"])
def test_order_number_formats_are_letters_separators_and_digits(pattern):
    from tracking.models import order_number_format_validator

    order_number_format_validator(pattern)


@pytest.mark.parametrize("pattern", ["NV-", "NV-##-##", "NV{6}"])
def test_malformed_order_number_formats_are_refused(pattern):
    from django.core.exceptions import ValidationError

    from tracking.models import order_number_format_validator

    with pytest.raises(ValidationError):
        order_number_format_validator(pattern)
