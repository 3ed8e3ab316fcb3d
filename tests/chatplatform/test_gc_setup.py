"""The web process freezes what lives as long as it does, including what answers load on first use.

The ASGI application starts in a subprocess: this test process has long imported everything, so
only a fresh interpreter shows what an answer imports after start-up.
"""

import gc
import json
import socket
import subprocess
import sys
import urllib.request

import pytest

from chatplatform import gc_setup
from tests.chatplatform.test_settings import ROOT, clean_env
from tests.waiting import wait_until

# Streams one answer and embeds one question with the SDK, as the answer path does, then reports
# the modules imported meanwhile and the collector's state.
PROBE = """
import asyncio, gc, json, sys, threading, time, weakref
import chatplatform.asgi
from chatplatform.gc_setup import gc_set_up
from chatplatform.ai import get_chat_provider, get_embedder

gc_set_up()  # as chatplatform/server.py does when it starts serving
from chatplatform.ai.base import ChatRequest

loaded = set(sys.modules)

async def answer():
    request = ChatRequest(
        messages=[{"role": "user", "content": "Hvad koster fragt?"}], question="Hvad koster fragt?",
        context=[], language="da",
    )
    text = "".join([delta async for delta in get_chat_provider().stream_chat(request)])
    vector = await get_embedder().aembed_query("Hvad koster fragt?")
    return text, len(vector)

text, dimension = asyncio.run(answer())
imported = sorted(set(sys.modules) - loaded)

# A cycle that outlives a middle collection reaches the oldest generation; then it becomes garbage.
class Node:
    pass

node = Node()
node.self = node
cycle = weakref.ref(node)
gc.collect(1)
del node
# Idle (a check every 0.1 s costs next to nothing) until the collector runs, or 60 s have passed.
deadline = time.monotonic() + 60
while cycle() is not None and time.monotonic() < deadline:
    time.sleep(0.1)

print(json.dumps({
    "text": text,
    "dimension": dimension,
    "imported": imported,
    "frozen": gc.get_freeze_count(),
    "threshold": gc.get_threshold(),
    "threads": [thread.name for thread in threading.enumerate()],
    "collected_when_idle": cycle() is None,
}))
"""


def test_importing_the_application_leaves_the_collector_alone(tmp_path):
    # Tests and tools import chatplatform.asgi; only the web server freezes its objects.
    script = (
        "import gc, json, threading, chatplatform.asgi; "
        "print(json.dumps([gc.get_freeze_count(), [t.name for t in threading.enumerate()]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    frozen, threads = json.loads(result.stdout.strip().splitlines()[-1])
    assert frozen == 0
    assert "gc-when-idle" not in threads


PROBE_APP = "tests.chatplatform.gc_probe_asgi:application"


def test_the_web_server_sets_the_collector_up_when_it_starts_serving(tmp_path):
    port = free_port()
    log = tmp_path / "web.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "chatplatform.server", "-b", "127.0.0.1", "-p", str(port), PROBE_APP],
        cwd=ROOT,
        env=clean_env(tmp_path),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        state = wait_until(lambda: served_json(port), timeout=60, what="the web server", log=log)
    finally:
        process.terminate()
        process.wait(timeout=30)

    assert state["frozen"] > 100_000
    assert "gc-when-idle" in state["threads"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def served_json(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return json.loads(response.read())
    except OSError:
        return None


def run_probe(tmp_path, openai_server) -> dict:
    env = clean_env(
        tmp_path,
        AI_PROVIDER="openai",
        OPENAI_API_KEY=openai_server.api_key,
        OPENAI_BASE_URL=openai_server.base_url,
        OPENAI_MAX_RETRIES="0",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_start_up_freezes_what_answers_use_and_full_collections_wait_for_a_quiet_moment(
    tmp_path, openai_server
):
    openai_server.script("Fragt koster 49 kr.")

    probe = run_probe(tmp_path, openai_server)

    assert probe["text"] == "Fragt koster 49 kr."
    assert probe["dimension"] > 0
    # Django, the apps and the SDKs: hundreds of thousands of objects, never walked again.
    assert probe["frozen"] > 100_000
    stack = ("openai", "httpx2", "httpcore2", "h11", "anyio", "pydantic", "truststore", "tenacity")
    late = [name for name in probe["imported"] if name.split(".")[0] in stack]
    assert late == [], f"imported after start-up, so never frozen: {late}"
    # Automatic full collections only as a safety net; the idle collector does them.
    assert probe["threshold"][2] == gc_setup.FULL_AFTER_MIDDLE
    assert "gc-when-idle" in probe["threads"]
    assert probe["collected_when_idle"]


@pytest.mark.parametrize(
    ("cpu_seconds", "middle_collections", "due"),
    [(0.001, 3, True), (0.2, 3, False), (0.001, 0, False)],
)
def test_a_full_collection_is_due_when_idle_with_something_in_the_oldest_generation(
    cpu_seconds, middle_collections, due
):
    assert (
        gc_setup.full_collection_due(
            cpu_seconds=cpu_seconds, interval_seconds=0.5, middle_collections=middle_collections
        )
        is due
    )


def test_the_answer_path_modules_all_exist():
    # A renamed module would fail start-up; this says which one.
    for name in gc_setup.ANSWER_PATH_MODULES:
        __import__(name)
    assert gc.isenabled()
