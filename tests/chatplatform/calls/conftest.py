import pytest

from chatplatform import telemetry


@pytest.fixture
def spans(settings) -> list[telemetry.CallRecord]:
    """The records of the spans that finish during the test, in order."""
    settings.TELEMETRY_ENABLED = True
    records: list[telemetry.CallRecord] = []
    unsubscribe = telemetry.subscribe(records.append)
    yield records
    unsubscribe()
