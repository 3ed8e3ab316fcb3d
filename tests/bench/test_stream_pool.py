"""Saved benchmark runs read back as the rounds they recorded, and pooled."""

import pytest

from bench.stream_clients import Answer, Round
from bench.stream_pool import rounds_of
from bench.stream_report import PATHS, added_ttft_ratio_intervals, summarise


def answer(ttft: float, gaps: list[float]) -> Answer:
    recorded = Answer(sent_at=10.0, events=len(gaps) + 1, tokens=len(gaps) + 1)
    at = 10.0 + ttft
    recorded.arrivals.append(at)
    for gap in gaps:
        at += gap
        recorded.arrivals.append(at)
    return recorded


def run(added: dict[str, float], rounds: int = 4) -> list[Round]:
    """`rounds` rounds of 10 clients per path, each path `added` seconds slower than direct."""
    return [
        Round(
            path=path,
            concurrency=10,
            answers=[answer(0.2 + extra + n * 0.001 + i * 0.0001, [0.02, 0.021]) for n in range(10)],
            seconds=1.0,
            server_cpu=0.05,
        )
        for i in range(rounds)
        for path, extra in added.items()
    ]


def test_a_saved_run_reads_back_as_the_rounds_it_recorded():
    rounds = run({"direct": 0.0, "relay": 0.010, "platform": 0.013})

    read = rounds_of({"rounds": [r.as_json() for r in rounds]})

    # The JSON keeps milliseconds to three decimals.
    again, recorded = summarise(read, {})[10], summarise(rounds, {})[10]
    for path in PATHS:
        for key in ("ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms", "cpu_us_per_token", "answers"):
            assert again[path][key] == pytest.approx(recorded[path][key], abs=0.01)


def test_the_ratio_interval_brackets_the_pooled_ratio():
    rounds = run({"direct": 0.0, "relay": 0.010, "platform": 0.013}, rounds=6)

    low, high = added_ttft_ratio_intervals(rounds, 10, (50,))[50]
    summary = summarise(rounds, {})[10]

    ratio = summary["platform"]["added_ttft_p50_ms"] / summary["relay"]["added_ttft_p50_ms"]
    assert low <= ratio <= high
    assert low > 1.25
    assert high < 1.35
