"""The admin lists of call records and daily aggregates: read-only, filterable."""

import pytest
from django.urls import reverse

from chatplatform.telemetry.aggregates import telemetry_aggregate
from tests.chatplatform.telemetry.factories import call_record

pytestmark = pytest.mark.django_db


def test_staff_list_and_filter_call_records(staff_client):
    call_record(tenant_id="nordvin", operation="chat")
    call_record(tenant_id="vinbutik", operation="embeddings", feature="retrieval")

    page = staff_client.get(reverse("admin:telemetry_callrecord_changelist"), {"operation": "embeddings"})

    assert page.status_code == 200
    assert b"vinbutik" in page.content
    assert b"nordvin" not in page.content


def test_staff_list_daily_aggregates(staff_client):
    call_record(tenant_id="nordvin")
    telemetry_aggregate()

    page = staff_client.get(reverse("admin:telemetry_dailyaggregate_changelist"), {"feature": "answer"})

    assert page.status_code == 200
    assert b"nordvin" in page.content


def test_records_cannot_be_added_or_changed(staff_client):
    record = call_record()

    assert staff_client.get(reverse("admin:telemetry_callrecord_add")).status_code == 403
    change = staff_client.post(
        reverse("admin:telemetry_callrecord_change", args=[record.pk]), {"operation": "json"}
    )
    assert change.status_code == 403
    record.refresh_from_db()
    assert record.operation == "chat"
