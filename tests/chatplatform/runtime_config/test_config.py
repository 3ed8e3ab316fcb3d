"""Runtime config: typed keys validated on save, every change a version, read through a
per-process copy that notices changes made elsewhere."""

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from chatplatform import runtime_config
from chatplatform.runtime_config import errors
from chatplatform.runtime_config.keys import register_key
from chatplatform.runtime_config.models import ConfigValue, ConfigVersion
from chatplatform.runtime_config.revisions import revision_bump
from chatplatform.runtime_config.selectors import SCOPE, config_diff, values_copy
from chatplatform.runtime_config.services import config_revert, config_set
from tests.chatplatform.runtime_config.clock import FakeClock

pytestmark = pytest.mark.django_db

PRICES = {"gpt-4o-mini": {"input_per_million": 0.15, "output_per_million": 0.6}}


@pytest.fixture
def staff():
    return get_user_model().objects.create_user(username="ops", password="x-pass-123", is_staff=True)


def prices(input_price: float) -> dict:
    return {"gpt-4o-mini": {"input_per_million": input_price, "output_per_million": 0.6}}


def test_an_unset_key_reads_its_default():
    assert runtime_config.get("llm_prices")["gpt-4o-mini"] == {
        "input_per_million": 0.15,
        "output_per_million": 0.6,
    }
    assert runtime_config.get("llm_prices")["local"] == {"input_per_million": 0.0, "output_per_million": 0.0}
    assert set(runtime_config.get("llm_prices")) >= {"gpt-4o", "text-embedding-3-small"}
    assert runtime_config.get("retrieval_defaults") == {"top_k": 4, "min_score": 0.1}


def test_it_refuses_an_unknown_key():
    with pytest.raises(errors.ConfigError) as raised:
        runtime_config.get("no_such_key")
    assert raised.value.code == "config_key_unknown"
    with pytest.raises(errors.ConfigError) as raised:
        config_set("no_such_key", 1, author=None, reason="test")
    assert raised.value.code == "config_key_unknown"


def test_it_validates_a_value_on_save_with_field_level_errors(staff):
    bad = {"gpt-4o": {"input_per_million": -1, "output_per_million": "lots"}}

    with pytest.raises(errors.ConfigError) as raised:
        config_set("llm_prices", bad, author=staff, reason="new prices")

    assert raised.value.code == "config_value_invalid"
    fields = raised.value.fields["gpt-4o"]
    assert set(fields) == {"input_per_million", "output_per_million"}
    assert "greater than or equal to 0" in fields["input_per_million"][0]
    assert not ConfigVersion.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        {"top_k": 0, "min_score": 0.1},
        {"top_k": 4},
        {"top_k": 4, "min_score": 2},
        "four",
    ],
)
def test_it_refuses_retrieval_defaults_out_of_range(value):
    with pytest.raises(errors.ConfigError) as raised:
        config_set("retrieval_defaults", value, author=None, reason="tuning")
    assert raised.value.code == "config_value_invalid"
    assert raised.value.fields


def test_it_requires_a_reason(staff):
    with pytest.raises(errors.ConfigError) as raised:
        config_set("llm_prices", PRICES, author=staff, reason="  ")
    assert raised.value.code == "config_reason_required"


def test_every_change_is_kept_as_a_version_with_author_time_and_reason(staff):
    first = config_set("llm_prices", prices(0.1), author=staff, reason="supplier discount")
    second = config_set("llm_prices", prices(0.2), author=None, reason="list price again")

    assert (first.number, second.number) == (1, 2)
    assert first.author == staff
    assert first.author_name == "ops"
    assert first.reason == "supplier discount"
    assert first.created_at <= second.created_at
    assert second.author is None
    assert ConfigValue.objects.get(key="llm_prices").version == 2
    assert runtime_config.get("llm_prices") == prices(0.2)


def test_values_are_stored_as_the_schema_makes_them():
    config_set("retrieval_defaults", {"top_k": "6", "min_score": "0.25"}, author=None, reason="tuning")

    assert runtime_config.get("retrieval_defaults") == {"top_k": 6, "min_score": 0.25}


def test_revert_makes_an_old_value_current_as_a_new_version(staff):
    for price in (0.1, 0.2, 0.3):
        config_set("llm_prices", prices(price), author=staff, reason=f"price {price}")

    reverted = config_revert("llm_prices", 1, author=staff, reason="back to the first")

    assert reverted.number == 4
    assert reverted.reverted_from == 1
    assert reverted.value == prices(0.1)
    assert runtime_config.get("llm_prices") == prices(0.1)
    assert list(ConfigVersion.objects.filter(key="llm_prices").values_list("number", flat=True)) == [
        4,
        3,
        2,
        1,
    ]


def test_revert_to_a_version_that_does_not_exist_is_refused(staff):
    config_set("llm_prices", prices(0.1), author=staff, reason="first")

    with pytest.raises(errors.ConfigError) as raised:
        config_revert("llm_prices", 9, author=staff, reason="oops")

    assert raised.value.code == "config_version_not_found"
    with pytest.raises(errors.ConfigError) as raised:
        config_revert("llm_prices", 1, author=staff, reason="")
    assert raised.value.code == "config_reason_required"


def test_the_diff_shows_what_changed_between_versions():
    config_set("retrieval_defaults", {"top_k": 5, "min_score": 0.1}, author=None, reason="more context")
    config_set("retrieval_defaults", {"top_k": 5, "min_score": 0.2}, author=None, reason="less noise")

    diff = config_diff("retrieval_defaults", 1, 2)
    from_default = config_diff("retrieval_defaults", None, 1)

    assert '-  "min_score": 0.1,' in diff
    assert '+  "min_score": 0.2,' in diff
    assert not any("top_k" in line for line in diff if line[:1] in "+-" and line[:3] not in {"+++", "---"})
    assert '-  "top_k": 4' in from_default
    assert '+  "top_k": 5' in from_default


def test_the_hot_path_reads_no_database_within_the_interval(django_assert_num_queries):
    runtime_config.get("llm_prices")

    with django_assert_num_queries(0):
        for _ in range(100):
            runtime_config.get("llm_prices")


def test_a_change_made_elsewhere_is_read_once_the_interval_has_passed(django_assert_num_queries):
    clock = FakeClock()
    values_copy.clock = clock
    assert runtime_config.get("retrieval_defaults")["top_k"] == 4

    # As another process writes: the rows and the counter, nothing in this process's memory.
    ConfigValue.objects.create(key="retrieval_defaults", value={"top_k": 7, "min_score": 0.1}, version=1)
    revision_bump(SCOPE)

    clock.advance(0.5)
    with django_assert_num_queries(0):
        assert runtime_config.get("retrieval_defaults")["top_k"] == 4
    clock.advance(0.6)
    assert runtime_config.get("retrieval_defaults")["top_k"] == 7


def test_an_unchanged_counter_costs_one_query_per_interval(django_assert_num_queries):
    clock = FakeClock()
    values_copy.clock = clock
    runtime_config.get("llm_prices")

    clock.advance(5)
    with django_assert_num_queries(1):
        runtime_config.get("llm_prices")
        runtime_config.get("llm_prices")


def test_the_saving_process_reads_its_change_at_once():
    values_copy.clock = FakeClock()  # time stands still: only the save itself can refresh
    assert runtime_config.get("retrieval_defaults")["top_k"] == 4

    config_set("retrieval_defaults", {"top_k": 9, "min_score": 0.1}, author=None, reason="test")

    assert runtime_config.get("retrieval_defaults")["top_k"] == 9


def test_a_stored_value_the_schema_no_longer_accepts_gives_the_default():
    ConfigValue.objects.create(key="retrieval_defaults", value={"top_k": 99, "min_score": 0.1}, version=1)
    revision_bump(SCOPE)

    assert runtime_config.get("retrieval_defaults") == {"top_k": 4, "min_score": 0.1}


@pytest.mark.django_db(transaction=True)
async def test_async_code_reads_through_aget():
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 4


@sync_to_async
def changed_elsewhere(top_k: int) -> None:
    # As another process writes: the rows and the counter, nothing in this process's memory.
    ConfigValue.objects.update_or_create(
        key="retrieval_defaults", defaults={"value": {"top_k": top_k, "min_score": 0.1}, "version": top_k}
    )
    revision_bump(SCOPE)


@pytest.mark.django_db(transaction=True)
async def test_the_event_loop_reads_changes_in_the_background_but_never_a_copy_past_the_interval():
    clock = FakeClock()
    values_copy.clock = clock
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 4  # no copy yet: waits

    await changed_elsewhere(7)
    clock.advance(0.6)  # past half the interval: one read starts, the copy serves meanwhile
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 4
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 4
    await values_copy._refreshing
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 7

    await changed_elsewhere(8)
    clock.advance(1.5)  # past the whole interval: the copy is not used, the read is waited for
    assert (await runtime_config.aget("retrieval_defaults"))["top_k"] == 8


def test_a_key_cannot_be_registered_twice_or_with_a_bad_default():
    from rest_framework import serializers

    with pytest.raises(errors.ConfigError) as raised:
        register_key("llm_prices", serializers.IntegerField(), default=1)
    assert raised.value.code == "config_key_taken"
    with pytest.raises(errors.ConfigError) as raised:
        register_key("test_only_bad_default", serializers.IntegerField(min_value=1), default=0)
    assert raised.value.code == "config_value_invalid"
