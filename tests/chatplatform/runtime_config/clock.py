"""A clock tests move by hand, and the process copies cleared around a test."""

import contextlib
import time
from collections.abc import Iterator


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@contextlib.contextmanager
def process_copies_cleared() -> Iterator[None]:
    # A copy loaded inside a test's rolled-back transaction must not serve the next test.
    from chatplatform.flags.selectors import flags_copy
    from chatplatform.runtime_config.selectors import values_copy

    copies = (values_copy, flags_copy)
    for copy in copies:
        copy.clear()
    yield
    for copy in copies:
        copy.clear()
        copy.clock = time.monotonic
