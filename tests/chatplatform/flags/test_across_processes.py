"""Feature flags across real, separate processes on one database."""

import pytest

from chatplatform.flags.buckets import in_rollout
from chatplatform.flags.models import Flag
from tests.chatplatform.runtime_config.processes import platform_processes
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE = 15  # how long the test waits before it calls propagation broken (it takes ~1 s)
SHOPS = [f"shop-{n}" for n in range(40)]


@pytest.fixture
def processes(tmp_path):
    Flag.objects.create(key="new_answers", enabled=True, percentage=20, subject_kinds=["chatbot"])
    yield from platform_processes(tmp_path, 2)


def on_for(process) -> list[str]:
    return [shop for shop in SHOPS if process.ask("flag", key="new_answers", subject=["chatbot", shop])]


def test_every_process_puts_the_same_subjects_in_and_follows_a_change(processes):
    writer, reader = processes
    at_20 = [shop for shop in SHOPS if in_rollout("new_answers", "chatbot", shop, 20)]
    at_60 = [shop for shop in SHOPS if in_rollout("new_answers", "chatbot", shop, 60)]
    assert on_for(writer) == on_for(reader) == at_20

    writer.ask("flag_update", key="new_answers", enabled=True, percentage=60)

    assert on_for(writer) == at_60
    wait_until(lambda: on_for(reader) == at_60, DEADLINE, "the other process to follow", reader.log)
    assert set(at_20) < set(at_60)
