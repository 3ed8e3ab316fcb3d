"""A task for the worker-crash tests, imported by the worker they start (`celery worker -I`).

Each run records itself (with the id of the process that runs it) and then waits for the test to
create the `release` file, so the test can kill the worker while the task is certainly running.
"""

import os
import time
import uuid
from pathlib import Path

from celery import shared_task


@shared_task(name="tests.crash_probe", acks_late=True, ignore_result=True)
def crash_probe(folder: str) -> None:
    here = Path(folder)
    run = uuid.uuid4().hex
    (here / f"started-{os.getpid()}-{run}").touch()
    while not (here / "release").exists():
        time.sleep(0.05)
    (here / f"done-{run}").touch()
