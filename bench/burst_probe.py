"""daphne with a probe of each burst: the CPU a server spends from a burst's first question to its
last provider request (`bench/stream.py --burst-probe`).

    python -m bench.burst_probe [daphne's arguments]    # with BURST_PROBE_OUT=<file.jsonl>

The wall-clock TTFT of a 10-client round moves by a millisecond or two from round to round with
whatever else the machine does; the CPU time of that stretch does not. A *window* opens when the
server reads a `message` frame while no window is open, and closes when as many chat-completion
requests as `message` frames read have been written to the provider's socket (httpcore's
`_send_request_body` returned). For each window one JSON line records how many questions it held,
its wall time, the CPU time of the thread that serves the sockets (the event loop's), the CPU time
of the process's other threads (the database writers, the collector's), and the automatic garbage
collections in it. A burst whose requests start leaving before its last question is read closes
early and shows up as several windows: `window_summary` keeps only windows of a whole burst.

The patches are installed after `daphne.server` has installed its reactor and before the
application is loaded; nothing of this runs in production.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class _Windows:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.open = False
        self.questions = 0
        self.sent = 0
        self.wall = self.thread_cpu = self.process_cpu = 0.0
        self.collections = [0, 0, 0]
        self.collection_ms = [0.0, 0.0, 0.0]
        self._collection_started: float | None = None

    def question(self) -> None:
        if not self.open:
            self.open, self.questions, self.sent = True, 0, 0
            self.collections, self.collection_ms = [0, 0, 0], [0.0, 0.0, 0.0]
            self.wall, self.thread_cpu, self.process_cpu = (
                time.perf_counter(),
                time.thread_time(),
                time.process_time(),
            )
        self.questions += 1

    def request_written(self) -> None:
        if not self.open:
            return
        self.sent += 1
        if self.sent < self.questions:
            return
        thread_cpu = time.thread_time() - self.thread_cpu
        record = {
            "questions": self.questions,
            "wall_ms": round((time.perf_counter() - self.wall) * 1000, 3),
            "loop_cpu_ms": round(thread_cpu * 1000, 3),
            "other_threads_cpu_ms": round((time.process_time() - self.process_cpu - thread_cpu) * 1000, 3),
            "collections": self.collections,
            "collection_ms": [round(ms, 3) for ms in self.collection_ms],
        }
        self.open = False
        with self.out.open("a") as handle:
            handle.write(json.dumps(record) + "\n")

    def collector(self, phase: str, info: dict[str, Any]) -> None:
        if not self.open:
            return
        if phase == "start":
            self._collection_started = time.thread_time()
        elif self._collection_started is not None:
            generation = info["generation"]
            self.collections[generation] += 1
            self.collection_ms[generation] += (time.thread_time() - self._collection_started) * 1000
            self._collection_started = None


def install(out: Path) -> None:
    import daphne.server  # installs the asyncio reactor before anything imports a reactor
    import daphne.ws_protocol
    import httpcore2._async.http11 as http11

    windows = _Windows(out)
    on_message = daphne.ws_protocol.WebSocketProtocol.onMessage
    send_body = http11.AsyncHTTP11Connection._send_request_body

    def probed_on_message(self, payload, is_binary):
        if b'"message"' in payload[:200]:
            windows.question()
        return on_message(self, payload, is_binary)

    async def probed_send_body(self, request) -> None:
        await send_body(self, request)
        if request.url.target.endswith(b"/chat/completions"):
            windows.request_written()

    daphne.ws_protocol.WebSocketProtocol.onMessage = probed_on_message
    http11.AsyncHTTP11Connection._send_request_body = probed_send_body
    gc.callbacks.append(windows.collector)


def window_summary(records: Iterable[dict[str, Any]], questions: int) -> dict[str, Any] | None:
    """Medians over the windows that held a whole burst of `questions`."""
    whole = [record for record in records if record["questions"] == questions]
    if not whole:
        return None

    def median(key: str) -> float:
        return round(statistics.median(record[key] for record in whole), 3)

    return {
        "windows": len(whole),
        "wall_ms": median("wall_ms"),
        "loop_cpu_ms": median("loop_cpu_ms"),
        "other_threads_cpu_ms": median("other_threads_cpu_ms"),
        "collection_ms": round(statistics.median(sum(record["collection_ms"]) for record in whole), 3),
    }


def probe_report(windows: dict[str, list[dict[str, Any]]], levels: Iterable[int]) -> str:
    """Per client count, the medians of each server's whole-burst windows and the platform's
    over the relay's."""
    lines = [
        "Bursts, from the first question read to the last provider request written (medians):",
        "| N | server | bursts | wall ms | event-loop thread CPU ms | other threads CPU ms | collections ms"
        " |",
        "|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        found = {name: window_summary(records, level) for name, records in windows.items()}
        for name, summary in found.items():
            if summary is None:
                lines.append(f"| {level} | {name} | 0 | - | - | - | - |")
                continue
            lines.append(
                f"| {level} | {name} | {summary['windows']} | {summary['wall_ms']:.2f} | "
                f"{summary['loop_cpu_ms']:.2f} | {summary['other_threads_cpu_ms']:.2f} | "
                f"{summary['collection_ms']:.2f} |"
            )
        platform, relay = found.get("platform"), found.get("relay")
        if platform and relay and relay["wall_ms"] > 0 and relay["loop_cpu_ms"] > 0:
            lines.append(
                f"| {level} | platform/relay | | {platform['wall_ms'] / relay['wall_ms']:.2f} | "
                f"{platform['loop_cpu_ms'] / relay['loop_cpu_ms']:.2f} | | |"
            )
    return "\n".join(lines)


def read_windows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    install(Path(os.environ["BURST_PROBE_OUT"]))
    from daphne.cli import CommandLineInterface

    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
