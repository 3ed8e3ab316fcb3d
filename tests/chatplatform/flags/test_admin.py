"""Admin for feature flags: the list, and a flag with its overrides inline."""

import pytest
from django.urls import reverse

from chatplatform import flags
from chatplatform.flags.models import Flag

pytestmark = pytest.mark.django_db


def inline(prefix: str = "overrides", **row) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    data.update({f"{prefix}-0-{name}": value for name, value in row.items()})
    return data


def test_the_list_shows_the_llm_router_flag(staff_client):
    Flag.objects.get_or_create(key="llm_router", defaults={"subject_kinds": ["chatbot"]})

    response = staff_client.get(reverse("admin:flags_flag_changelist"))

    assert response.status_code == 200
    assert "llm_router" in response.content.decode()


def test_staff_edit_a_flag_with_an_override_and_it_applies_at_once(staff_client):
    flag = Flag.objects.create(key="new_answers", subject_kinds=["chatbot"])
    assert not flags.is_enabled("new_answers", subject=("chatbot", "nordvin"))

    response = staff_client.post(
        reverse("admin:flags_flag_change", args=[flag.pk]),
        {
            "key": "new_answers",
            "description": "",
            "enabled": "on",
            "percentage": "0",
            "subject_kinds": ["chatbot"],
            **inline(subject_kind="chatbot", subject_id="nordvin", enabled="on", note="pilot shop"),
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert flags.is_enabled("new_answers", subject=("chatbot", "nordvin"))
    assert not flags.is_enabled("new_answers", subject=("chatbot", "other-shop"))


def test_it_refuses_a_percentage_over_a_hundred_and_an_override_of_another_kind(staff_client):
    flag = Flag.objects.create(key="new_answers", subject_kinds=["chatbot"])

    response = staff_client.post(
        reverse("admin:flags_flag_change", args=[flag.pk]),
        {
            "key": "new_answers",
            "description": "",
            "percentage": "150",
            "subject_kinds": ["chatbot"],
            **inline(subject_kind="learner", subject_id="7", enabled="on"),
        },
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "less than or equal to 100" in text
    assert "new_answers applies to chatbot only." in text
    assert Flag.objects.get(pk=flag.pk).percentage == 0
