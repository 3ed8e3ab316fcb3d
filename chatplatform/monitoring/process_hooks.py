"""Keeping the multiprocess metric files right as processes come and go.

Each process writes its values to files named by its pid. Counters and histograms of a process
that has ended still count (what it counted happened); its live gauges (open websockets, active
streams) must not, so they are removed when it exits, by `atexit` in web and beat and by Celery's
`worker_process_shutdown` in each pool process, and at scrape time for processes that died
without saying so (SIGKILL, OOM). The folder is emptied when `make run` starts.
"""

import atexit
import contextlib
import os
import re
import sys
from pathlib import Path

from django.conf import settings
from prometheus_client import multiprocess

_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+?_(\d+)\.db")
_installed = False


def install() -> None:
    """Hook this process's exit (once per process)."""
    global _installed
    if _installed or not settings.PROMETHEUS_MULTIPROC_DIR:
        return
    _installed = True
    # A process that reuses a dead one's pid must not start from its live gauges (before this
    # process has any of its own).
    if "chatplatform.monitoring.metrics" not in sys.modules:
        _mark_dead(os.getpid())
    atexit.register(lambda: _mark_dead(os.getpid()))

    from celery.signals import worker_process_init, worker_process_shutdown

    worker_process_init.connect(_pool_process_started, weak=False)
    worker_process_shutdown.connect(_pool_process_ended, weak=False)


def _pool_process_started(**kwargs) -> None:
    _mark_dead(os.getpid())


def _pool_process_ended(pid=None, **kwargs) -> None:
    _mark_dead(pid or os.getpid())


def _mark_dead(pid: int) -> None:
    with contextlib.suppress(OSError):
        multiprocess.mark_process_dead(pid, str(settings.PROMETHEUS_MULTIPROC_DIR))


def dead_processes_forget() -> int:
    """Remove the live gauges of processes on this machine that are gone; return how many."""
    folder = Path(settings.PROMETHEUS_MULTIPROC_DIR)
    removed = 0
    for path in folder.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match is None or _alive(int(match.group(1))):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def metrics_folder_reset() -> None:
    """Empty the folder, before any process of a fresh start has counted anything."""
    folder = Path(settings.PROMETHEUS_MULTIPROC_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        path.unlink(missing_ok=True)
