"""Automatic garbage collections can be held off for a moment, never for long."""

import gc
import logging
import time

from chatplatform import gc_setup


def test_collections_resume_when_the_last_holder_of_a_pause_releases_it(collector_set_up):
    first = gc_setup.collection_pause()
    second = gc_setup.collection_pause()
    assert not gc.isenabled()

    first()
    first()  # a second release of the same holder counts once
    assert not gc.isenabled()

    second()
    assert gc.isenabled()


def test_a_process_not_set_up_for_serving_keeps_collecting_through_a_pause(monkeypatch):
    monkeypatch.setattr(gc_setup, "_set_up", False)
    release = gc_setup.collection_pause()

    assert gc.isenabled()
    release()
    assert gc.isenabled()


def test_a_pause_leaves_a_collector_switched_off_by_someone_else_off(collector_set_up):
    gc.disable()
    release = gc_setup.collection_pause()
    release()

    assert not gc.isenabled()


def test_the_idle_thread_ends_a_pause_nobody_released_and_says_so(collector_set_up, caplog):
    forgotten = gc_setup.collection_pause()
    now = time.monotonic()

    assert not gc_setup.end_overlong_pause(now)
    assert not gc.isenabled()
    with caplog.at_level(logging.WARNING, logger="chatplatform.gc_setup"):
        assert gc_setup.end_overlong_pause(now + gc_setup.PAUSE_LIMIT_SECONDS + 0.1)
    assert gc.isenabled()
    assert "paused for over" in caplog.text

    # The late release belongs to the ended pause: it does not end the next one.
    current = gc_setup.collection_pause()
    forgotten()
    assert not gc.isenabled()
    current()
    assert gc.isenabled()
