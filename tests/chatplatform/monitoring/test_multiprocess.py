"""Figures counted by several processes add up in /metrics (prometheus-client multiprocess mode)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]

# A process like web or worker: counts answers and opens websockets, then waits for a line on
# stdin (or EOF) before it exits normally.
COUNTING_PROCESS = """
import sys
import django

django.setup()
from chatplatform.monitoring.metrics import ANSWERS, OPEN_WEBSOCKETS

ANSWERS.labels("completed").inc(int(sys.argv[1]))
OPEN_WEBSOCKETS.inc(2)
print("counted", flush=True)
sys.stdin.readline()
"""


def counting_process(folder: Path, answers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "chatplatform.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
    }
    process = subprocess.Popen(
        [sys.executable, "-c", COUNTING_PROCESS, str(answers)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "counted"
    return process


def scraped(client) -> dict[str, dict[tuple, float]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.fixture
def folder(settings, tmp_path):
    settings.PROMETHEUS_MULTIPROC_DIR = tmp_path
    return tmp_path


def test_counters_of_several_processes_add_up(staff_client, folder):
    first, second = counting_process(folder, 3), counting_process(folder, 4)
    try:
        while_running = scraped(staff_client)
    finally:
        for process in (first, second):
            process.communicate("\n")

    after = scraped(staff_client)

    assert while_running["chatplatform_answers_total"][(("status", "completed"),)] == 7
    assert while_running["chatplatform_open_websockets"][()] == 4
    # Counts outlive their process; open websockets of a process that ended do not.
    assert after["chatplatform_answers_total"][(("status", "completed"),)] == 7
    assert after.get("chatplatform_open_websockets", {}).get((), 0) == 0


def test_a_killed_process_no_longer_counts_in_the_live_gauges(staff_client, folder):
    process = counting_process(folder, 1)
    assert scraped(staff_client)["chatplatform_open_websockets"][()] == 2

    process.kill()  # no exit hook runs
    process.wait()

    assert scraped(staff_client).get("chatplatform_open_websockets", {}).get((), 0) == 0
    assert scraped(staff_client)["chatplatform_answers_total"][(("status", "completed"),)] == 1
