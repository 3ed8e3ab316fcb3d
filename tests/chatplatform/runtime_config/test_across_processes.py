"""Runtime config across real, separate processes on one database."""

import pytest

from tests.chatplatform.runtime_config.processes import platform_processes
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Each process notices a change within RUNTIME_CONFIG_RECHECK_SECONDS (1 s); this is only how long
# the test waits before it calls the propagation broken.
DEADLINE = 15


def prices(input_price: float) -> dict:
    return {"gpt-4o-mini": {"input_per_million": input_price, "output_per_million": 0.6}}


@pytest.fixture
def processes(tmp_path):
    yield from platform_processes(tmp_path, 2)


def test_config_change_a_value_three_times_revert_to_the_first_every_process_returns_it(processes):
    writer, reader = processes
    default = writer.ask("get", key="llm_prices")
    # Both hold a copy already, so each must notice the changes rather than load them fresh.
    assert reader.ask("get", key="llm_prices") == default

    for number, price in enumerate((0.11, 0.22, 0.33), start=1):
        assert writer.ask("set", key="llm_prices", value=prices(price), reason=f"price {price}") == number
        # The writing process reads its own change at once.
        assert writer.ask("get", key="llm_prices") == prices(price)
        wait_until(
            lambda price=price: reader.ask("get", key="llm_prices") == prices(price),
            DEADLINE,
            f"the other process to read price {price}",
            reader.log,
        )

    assert writer.ask("revert", key="llm_prices", version=1, reason="back to the first") == 4

    for process in processes:
        wait_until(
            lambda process=process: process.ask("get", key="llm_prices") == prices(0.11),
            DEADLINE,
            f"process {process.pid} to return the first value",
            process.log,
        )
