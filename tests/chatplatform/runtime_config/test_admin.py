"""Admin for the runtime config: list, edit with validation and a reason, history, diff, revert."""

import pytest
from django.urls import reverse

from chatplatform import runtime_config
from chatplatform.runtime_config.models import ConfigVersion
from chatplatform.runtime_config.services import config_set

pytestmark = pytest.mark.django_db

PRICES = '{"gpt-4o-mini": {"input_per_million": %s, "output_per_million": 0.6}}'


def edit_url(key: str) -> str:
    return reverse("admin:runtime_config_configvalue_edit", args=[key])


def versions_url(key: str) -> str:
    return reverse("admin:runtime_config_configvalue_versions", args=[key])


def test_it_lists_every_key_with_its_current_value(staff_client):
    config_set("retrieval_defaults", {"top_k": 6, "min_score": 0.2}, author=None, reason="tuning")

    response = staff_client.get(reverse("admin:runtime_config_configvalue_changelist"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "llm_prices" in text
    assert "text-embedding-3-small" in text  # the default, never set
    assert "&quot;top_k&quot;: 6" in text


def test_it_saves_a_valid_value_as_a_new_version_by_the_staff_member(staff_client):
    response = staff_client.post(edit_url("llm_prices"), {"value": PRICES % "0.12", "reason": "new contract"})

    assert response.status_code == 302
    version = ConfigVersion.objects.get(key="llm_prices")
    assert (version.number, version.author_name, version.reason) == (1, "staff", "new contract")
    assert runtime_config.get("llm_prices")["gpt-4o-mini"]["input_per_million"] == 0.12


def test_it_shows_field_level_errors_for_a_bad_value(staff_client):
    response = staff_client.post(edit_url("llm_prices"), {"value": PRICES % "-3", "reason": "oops"})

    assert response.status_code == 200
    assert "gpt-4o-mini.input_per_million: Ensure this value is greater than or equal to 0." in (
        response.content.decode()
    )
    assert not ConfigVersion.objects.exists()


def test_it_requires_a_reason_and_valid_json(staff_client):
    no_reason = staff_client.post(edit_url("llm_prices"), {"value": PRICES % "1", "reason": ""})
    bad_json = staff_client.post(edit_url("llm_prices"), {"value": "{nope", "reason": "x"})

    assert no_reason.status_code == bad_json.status_code == 200
    assert "This field is required." in no_reason.content.decode()
    assert "Enter a valid JSON." in bad_json.content.decode()
    assert not ConfigVersion.objects.exists()


def test_an_unknown_key_is_not_found(staff_client):
    assert staff_client.get(edit_url("no_such_key")).status_code == 404
    assert staff_client.get(versions_url("no_such_key")).status_code == 404


def test_the_history_shows_each_version_and_a_diff(staff_client):
    config_set("retrieval_defaults", {"top_k": 5, "min_score": 0.1}, author=None, reason="more context")
    config_set("retrieval_defaults", {"top_k": 5, "min_score": 0.3}, author=None, reason="less noise")

    latest = staff_client.get(versions_url("retrieval_defaults")).content.decode()
    chosen = staff_client.get(versions_url("retrieval_defaults"), {"old": "", "new": "1"}).content.decode()

    assert "more context" in latest
    assert "less noise" in latest
    assert "+  &quot;min_score&quot;: 0.3," in latest
    assert "-  &quot;min_score&quot;: 0.1," in latest
    assert "+  &quot;top_k&quot;: 5" in chosen  # from the default (4) to version 1


def test_revert_needs_a_reason_and_makes_a_new_version(staff_client):
    config_set("retrieval_defaults", {"top_k": 5, "min_score": 0.1}, author=None, reason="first")
    config_set("retrieval_defaults", {"top_k": 8, "min_score": 0.1}, author=None, reason="second")
    revert = reverse("admin:runtime_config_configvalue_revert", args=["retrieval_defaults", 1])

    refused = staff_client.post(revert, {"reason": ""}, follow=True)
    done = staff_client.post(revert, {"reason": "too many chunks"}, follow=True)

    assert "a reason is required" in refused.content.decode()
    assert "back to version 1" in done.content.decode()
    latest = ConfigVersion.objects.filter(key="retrieval_defaults").first()
    assert (latest.number, latest.reverted_from, latest.reason) == (3, 1, "too many chunks")
    assert runtime_config.get("retrieval_defaults")["top_k"] == 5


def test_staff_without_the_change_permission_can_look_but_not_edit(client, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(username="viewer", password="v-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_configvalue"))
    client.force_login(viewer)

    assert client.get(reverse("admin:runtime_config_configvalue_changelist")).status_code == 200
    assert client.get(versions_url("llm_prices")).status_code == 200
    assert client.post(edit_url("llm_prices"), {"value": PRICES % "1", "reason": "x"}).status_code == 403
