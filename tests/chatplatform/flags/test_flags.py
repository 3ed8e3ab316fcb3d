"""Flags: overrides first, then the flag's switch, subject kinds and percentage; read through
the per-process copy, which notices changes made elsewhere."""

import importlib
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.apps import apps

from chatplatform import flags
from chatplatform.errors import ApplicationError
from chatplatform.flags.buckets import in_rollout
from chatplatform.flags.models import Flag, FlagOverride
from chatplatform.flags.selectors import SCOPE, flags_copy
from chatplatform.flags.services import flag_override_set, flag_update
from chatplatform.runtime_config.revisions import revision_bump
from tests.chatplatform.runtime_config.clock import FakeClock

pytestmark = pytest.mark.django_db

CHATBOTS = [f"shop-{n}" for n in range(400)]


@pytest.fixture
def flag():
    return Flag.objects.create(
        key="new_answers", enabled=True, percentage=Decimal(30), subject_kinds=["chatbot"]
    )


def on_for(key: str) -> set[str]:
    return {chatbot for chatbot in CHATBOTS if flags.is_enabled(key, subject=("chatbot", chatbot))}


def test_it_is_on_for_the_subjects_whose_bucket_is_below_the_percentage(flag):
    expected = {chatbot for chatbot in CHATBOTS if in_rollout("new_answers", "chatbot", chatbot, 30)}

    assert on_for("new_answers") == expected
    assert 80 < len(expected) < 160


def test_raising_the_percentage_keeps_everyone_who_was_in(flag):
    before = on_for("new_answers")

    flag_update("new_answers", percentage="55.5")

    after = on_for("new_answers")
    assert before < after


def test_a_disabled_flag_is_off_for_everyone_but_overridden_subjects(flag):
    flag_update("new_answers", enabled=False, percentage=100)
    flag_override_set("new_answers", ("chatbot", "shop-7"), enabled=True)

    assert on_for("new_answers") == {"shop-7"}


def test_an_override_turns_a_subject_off_at_a_hundred_percent(flag):
    flag_update("new_answers", percentage=100)
    flag_override_set("new_answers", ("chatbot", "shop-7"), enabled=False)

    assert on_for("new_answers") == set(CHATBOTS) - {"shop-7"}

    flag_override_set("new_answers", ("chatbot", "shop-7"), enabled=None)
    assert on_for("new_answers") == set(CHATBOTS)


def test_it_is_off_for_kinds_it_does_not_apply_to(flag):
    flag_update("new_answers", percentage=100)

    assert flags.is_enabled("new_answers", subject=("chatbot", "shop-1"))
    assert not flags.is_enabled("new_answers", subject=("learner", "1"))


def test_an_unknown_flag_is_off():
    assert not flags.is_enabled("no_such_flag", subject=("chatbot", "shop-1"))


def test_without_a_subject_only_a_flag_on_for_everyone_is_on(flag):
    assert not flags.is_enabled("new_answers")
    flag_update("new_answers", percentage=100)
    assert flags.is_enabled("new_answers")


def test_the_services_refuse_bad_input_with_stable_codes(flag):
    for percentage in (101, -1, "12.345", "many"):
        with pytest.raises(ApplicationError) as raised:
            flag_update("new_answers", percentage=percentage)
        assert raised.value.code == "flag_percentage_invalid"
    with pytest.raises(ApplicationError) as raised:
        flag_override_set("new_answers", ("learner", "1"), enabled=True)
    assert raised.value.code == "flag_subject_kind_invalid"
    with pytest.raises(ApplicationError) as raised:
        flag_update("no_such_flag", enabled=True)
    assert raised.value.code == "flag_unknown"


def test_the_hot_path_reads_no_database_within_the_interval(flag, django_assert_num_queries):
    flags.is_enabled("new_answers", subject=("chatbot", "shop-1"))

    with django_assert_num_queries(0):
        on_for("new_answers")


def test_a_change_made_elsewhere_is_read_once_the_interval_has_passed(flag, django_assert_num_queries):
    clock = FakeClock()
    flags_copy.clock = clock
    assert not flags.is_enabled("new_answers", subject=("chatbot", "shop-0"))  # its bucket: 51.58

    # As another process writes: the rows and the counter, nothing in this process's memory.
    Flag.objects.filter(pk=flag.pk).update(percentage=100)
    revision_bump(SCOPE)

    clock.advance(0.5)
    with django_assert_num_queries(0):
        assert not flags.is_enabled("new_answers", subject=("chatbot", "shop-0"))
    clock.advance(0.6)
    assert flags.is_enabled("new_answers", subject=("chatbot", "shop-0"))


def test_an_edit_in_this_process_is_read_at_once(flag):
    flags_copy.clock = FakeClock()  # time stands still: only the save itself can refresh
    assert not flags.is_enabled("new_answers", subject=("chatbot", "shop-0"))

    FlagOverride.objects.create(flag=flag, subject_kind="chatbot", subject_id="shop-0", enabled=True)

    assert flags.is_enabled("new_answers", subject=("chatbot", "shop-0"))


@pytest.mark.django_db(transaction=True)
async def test_async_code_asks_through_ais_enabled():
    await sync_to_async(Flag.objects.create)(key="async_flag", enabled=True, percentage=100)

    assert await flags.ais_enabled("async_flag", subject=("visitor", "abc"))


def test_the_llm_router_flag_is_created_disabled_at_zero_percent():
    migration = importlib.import_module("chatplatform.flags.migrations.0002_llm_router_flag")
    Flag.objects.filter(key="llm_router").delete()

    migration.llm_router_flag_create(apps, None)

    flag = Flag.objects.get(key="llm_router")
    assert (flag.enabled, flag.percentage, flag.subject_kinds) == (False, 0, ["chatbot"])
