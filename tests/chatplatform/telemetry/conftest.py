import pytest

from chatplatform import telemetry


@pytest.fixture
def delivered():
    """The records delivered (released) during the test, in order."""
    records: list[telemetry.CallRecord] = []
    unsubscribe = telemetry.subscribe(records.append)
    yield records
    unsubscribe()
