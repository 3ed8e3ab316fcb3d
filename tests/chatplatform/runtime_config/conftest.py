import pytest

from tests.chatplatform.runtime_config.clock import process_copies_cleared


@pytest.fixture(autouse=True)
def _fresh_process_copies():
    with process_copies_cleared():
        yield
