"""The order lookup log: masked order numbers, old rows re-masked, a read-only admin page."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.conversations.factories import ChatbotFactory
from tracking.models import OrderLookup
from tracking.services import order_hint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("number", "hint"),
    [
        ("12345", "•••45"),
        ("123456", "•••56"),
        ("1234567", "•••67"),
        ("NV-100234", "•••34"),
        ("000000123", "•••23"),
        ("1234", "•••"),
        ("12", "•••"),
        ("", "•••"),
    ],
)
def test_an_order_number_keeps_at_most_its_last_two_characters(number, hint):
    assert order_hint(number) == hint


@pytest.mark.django_db(transaction=True)
def test_the_migration_re_masks_the_hints_already_logged():
    executor = MigrationExecutor(connection)
    before, after = [("tracking", "0002_order_lookups")], [("tracking", "0003_order_hint_last_two")]
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    # Only tracking went back: the chatbot's table has every later column, so today's model
    # writes it.
    chatbot = ChatbotFactory(chatbot_id="old-log", name="Old log")
    lookups = old_apps.get_model("tracking", "OrderLookup")
    # Hints as the earlier mask stored them (first 3 and last 2 characters kept).
    for hint in ["12345", "123•56", "NV-••••34", "••••", "•••45"]:
        lookups.objects.create(chatbot_id=chatbot.pk, order_hint=hint, outcome="verified")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    hints = sorted(OrderLookup.objects.values_list("order_hint", flat=True))
    # Later tracking migrations back too, for the tests that follow.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert hints == sorted(["•••45", "•••56", "•••34", "•••", "•••45"])


def lookup(chatbot, **fields) -> OrderLookup:
    fields = {"order_hint": "•••34", "outcome": OrderLookup.Outcome.VERIFIED, **fields}
    return OrderLookup.objects.create(chatbot=chatbot, **fields)


def test_staff_read_the_order_lookups_page_filtered_by_chatbot(staff_client):
    wine, beer = ChatbotFactory(chatbot_id="wine"), ChatbotFactory(chatbot_id="beer")
    lookup(wine, order_hint="•••34")
    lookup(beer, order_hint="•••77", outcome=OrderLookup.Outcome.NOT_VERIFIED)

    index = staff_client.get("/admin/")
    everything = staff_client.get("/admin/tracking/orderlookup/")
    wine_only = staff_client.get(f"/admin/tracking/orderlookup/?chatbot__id__exact={wine.pk}")

    assert "Order lookups" in index.content.decode()
    assert everything.status_code == 200
    assert "•••34" in everything.content.decode()
    assert "•••77" in everything.content.decode()
    assert "•••34" in wine_only.content.decode()
    assert "•••77" not in wine_only.content.decode()


def test_the_order_lookups_page_is_read_only(staff_client):
    row = lookup(ChatbotFactory(chatbot_id="wine"))

    add = staff_client.get("/admin/tracking/orderlookup/add/")
    change = staff_client.post(
        f"/admin/tracking/orderlookup/{row.pk}/change/", {"order_hint": "NV-100234", "outcome": "error"}
    )
    delete = staff_client.post(f"/admin/tracking/orderlookup/{row.pk}/delete/", {"post": "yes"})

    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    row.refresh_from_db()
    assert (row.order_hint, row.outcome) == ("•••34", OrderLookup.Outcome.VERIFIED)
