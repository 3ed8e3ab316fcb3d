"""Report several runs of bench/stream.py as one: their rounds pooled per concurrency.

    .venv/bin/python bench/stream_pool.py bench/results/stream-A.json bench/results/stream-B.json

Prints the same table and targets as a run, the TTFT ratios with their 90 % intervals. Use it to
judge a change on more rounds than one run holds, or to compare two variants measured in
alternated runs (pool each variant's runs separately). Memory per connection is the mean of the
runs'.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

from bench.stream_clients import Answer, Round  # noqa: E402  (after the repository root is importable)
from bench.stream_report import report, summarise, targets  # noqa: E402


def answer_of(client: dict) -> Answer:
    """The answer as recorded: its arrivals rebuilt from the TTFT and the gaps between tokens."""
    answer = Answer(
        sent_at=0.0,
        events=client["events"],
        tokens=client["tokens"],
        lost=client["lost"],
        reordered=client["reordered"],
        duplicated=client["duplicated"],
        error=client["error"],
    )
    if client["ttft_ms"] is not None:
        at = client["ttft_ms"] / 1000
        answer.arrivals.append(at)
        for gap in client["gaps_ms"]:
            at += gap / 1000
            answer.arrivals.append(at)
    return answer


def rounds_of(result: dict) -> list[Round]:
    return [
        Round(
            path=recorded["path"],
            concurrency=recorded["concurrency"],
            answers=[answer_of(client) for client in recorded["clients"]],
            seconds=recorded["seconds"],
            server_cpu=recorded["server_cpu_s"],
            server_cpu_stat=recorded["server_cpu_stat_s"],
            driver_cpu=recorded["driver_cpu_s"],
            connect_seconds=recorded["connect_s"],
            attempts=recorded["attempts"],
            services_cpu=recorded["services_cpu_s"],
            other_cpu=recorded["other_cpu_s"],
        )
        for recorded in result["rounds"]
    ]


def memory_of(results: list[dict]) -> dict[str, dict[int, float]]:
    seen: dict[str, dict[int, list[float]]] = {}
    for result in results:
        for path, levels in result["memory_kib_per_connection"].items():
            for concurrency, kib in levels.items():
                seen.setdefault(path, {}).setdefault(int(concurrency), []).append(kib)
    return {path: {c: sum(v) / len(v) for c, v in levels.items()} for path, levels in seen.items()}


def main(argv: list[str] | None = None) -> int:
    files = [Path(name) for name in (sys.argv[1:] if argv is None else argv)]
    if not files:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results = [json.loads(file.read_text()) for file in files]
    rounds = [r for result in results for r in rounds_of(result)]
    summary = summarise(rounds, memory_of(results))
    print(f"{len(files)} run(s): " + ", ".join(file.name for file in files))
    print(report(summary, targets(summary, rounds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
