"""Re-mask the order numbers already logged: at most their last 2 characters stay.

The earlier mask kept the first 3 and last 2 characters, so a 5-character number was stored in
full and a 6-7 character one nearly so. The last 2 characters of a stored hint are the number's
own (hints of 4 characters or fewer were all dots), so the new mask is computed from the hint.
The mask is inlined rather than imported: a migration must not change when the code does.
"""

from django.db import migrations

HIDDEN = "•••"


def remask(hint: str) -> str:
    if len(hint) <= 4 or "•" in hint[-2:]:
        return HIDDEN
    return f"{HIDDEN}{hint[-2:]}"


def order_hints_remask(apps, schema_editor):
    OrderLookup = apps.get_model("tracking", "OrderLookup")
    changed = []
    for lookup in OrderLookup.objects.only("id", "order_hint").iterator(chunk_size=2000):
        hint = remask(lookup.order_hint)
        if hint != lookup.order_hint:
            lookup.order_hint = hint
            changed.append(lookup)
        if len(changed) >= 2000:
            OrderLookup.objects.bulk_update(changed, ["order_hint"])
            changed = []
    OrderLookup.objects.bulk_update(changed, ["order_hint"])


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0002_order_lookups"),
    ]

    operations = [
        # The old hints cannot be restored, so going back leaves the new ones in place.
        migrations.RunPython(order_hints_remask, migrations.RunPython.noop),
    ]
