import pytest

from tracking.extraction import OrderVariables
from tracking.orders import Order, OrderStatus
from tracking.verification import failure_record, failures_exhausted, shopper_matches

ORDER = Order(
    number="NV-100234",
    status=OrderStatus.SHIPPED,
    raw_status="Afsendt",
    customer_email="Anna@Example.dk",
    postcode="2100",
)


@pytest.mark.parametrize(
    ("variables", "matched"),
    [
        (OrderVariables(order_number="NV-100234", email="anna@example.dk"), "email"),
        (OrderVariables(order_number="NV-100234", postcode="2100"), "postcode"),
        (OrderVariables(order_number="NV-100234", email="other@example.dk"), ""),
        (OrderVariables(order_number="NV-100234", postcode="2200"), ""),
        (OrderVariables(order_number="NV-100234"), ""),
    ],
)
def test_the_email_or_the_postcode_must_match(variables, matched):
    assert shopper_matches(ORDER, variables) == matched


def test_an_order_without_an_email_is_never_matched_by_an_empty_one():
    order = Order(number="1", status=OrderStatus.RECEIVED, raw_status="x", customer_email="", postcode="")

    assert shopper_matches(order, OrderVariables(order_number="1", email="", postcode="")) == ""


def test_facts_never_carry_email_or_postcode():
    facts = ORDER.facts()

    assert "anna" not in str(facts).lower()
    assert "2100" not in str(facts)
    assert "Anna" not in repr(ORDER)


def test_five_failures_lock_the_conversation_and_the_ip(settings):
    settings.ORDER_LOOKUP_MAX_FAILURES = 5
    for _ in range(4):
        failure_record(conversation_id="c1", ip="10.0.0.1")
    assert not failures_exhausted(conversation_id="c1", ip="10.0.0.1")

    failure_record(conversation_id="c1", ip="10.0.0.1")

    assert failures_exhausted(conversation_id="c1", ip="10.0.0.1")
    assert failures_exhausted(conversation_id="c2", ip="10.0.0.1")  # same IP, new conversation
    assert failures_exhausted(conversation_id="c1", ip="10.0.0.9")  # same conversation, new IP
    assert not failures_exhausted(conversation_id="c2", ip="10.0.0.9")


class FakeClock:
    """Stands in for the `time` module of `tracking.verification`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    # 10:59:00 UTC on some day: one minute before an hour boundary.
    fake = FakeClock(1_767_000_000 - 1_767_000_000 % 3600 + 59 * 60)
    monkeypatch.setattr("tracking.verification.time", fake)
    return fake


def test_failures_just_before_the_hour_still_lock_just_after_it(settings, clock):
    settings.ORDER_LOOKUP_MAX_FAILURES = 5
    for _ in range(5):
        failure_record(conversation_id="c1", ip="10.0.0.1")

    clock.now += 2 * 60  # 11:01, a new clock hour

    assert failures_exhausted(conversation_id="c1", ip="10.0.0.1")
    assert failures_exhausted(conversation_id="c2", ip="10.0.0.1")
    assert failures_exhausted(conversation_id="c1", ip="10.0.0.9")


def test_a_failure_stops_counting_an_hour_after_it(settings, clock):
    settings.ORDER_LOOKUP_MAX_FAILURES = 2
    failure_record(conversation_id="c1", ip="10.0.0.1")
    clock.now += 30 * 60
    failure_record(conversation_id="c1", ip="10.0.0.1")

    clock.now += 29 * 60  # 59 minutes after the first failure, in the next clock hour
    assert failures_exhausted(conversation_id="c1", ip="10.0.0.1")

    clock.now += 3 * 60  # 62 minutes after the first failure: only the second one counts
    assert not failures_exhausted(conversation_id="c1", ip="10.0.0.1")
