"""The burst probe: windows from a burst's first question to its last request written."""

from bench.burst_probe import _Windows, probe_report, read_windows, window_summary


def test_a_window_closes_when_every_question_read_has_its_request_written(tmp_path):
    windows = _Windows(tmp_path / "windows.jsonl")

    for _ in range(3):
        windows.question()
    windows.request_written()
    windows.request_written()
    assert read_windows(windows.out) == []  # one request still to go
    sum(range(200_000))  # some CPU inside the window
    windows.request_written()
    windows.request_written()  # after the window: ignored

    [record] = read_windows(windows.out)
    assert record["questions"] == 3
    assert record["loop_cpu_ms"] > 0
    assert record["wall_ms"] >= record["loop_cpu_ms"] * 0.5
    assert len(record["collections"]) == 3


def test_only_windows_of_a_whole_burst_are_summarised():
    records = [
        {
            "questions": 10,
            "wall_ms": w,
            "loop_cpu_ms": w - 1,
            "other_threads_cpu_ms": 0.5,
            "collection_ms": [0.1, 0, 0],
        }
        for w in (9.0, 10.0, 30.0)
    ]
    # A burst whose first requests left before its last question was read: two partial windows.
    records += [
        {
            "questions": 4,
            "wall_ms": 5.0,
            "loop_cpu_ms": 5.0,
            "other_threads_cpu_ms": 0,
            "collection_ms": [0, 0, 0],
        },
        {
            "questions": 6,
            "wall_ms": 6.0,
            "loop_cpu_ms": 6.0,
            "other_threads_cpu_ms": 0,
            "collection_ms": [0, 0, 0],
        },
    ]

    summary = window_summary(records, 10)

    assert summary == {
        "windows": 3,
        "wall_ms": 10.0,
        "loop_cpu_ms": 9.0,
        "other_threads_cpu_ms": 0.5,
        "collection_ms": 0.1,
    }
    assert window_summary(records, 100) is None


def test_the_report_compares_the_platform_with_the_relay():
    def burst(wall: float) -> dict:
        return {
            "questions": 10,
            "wall_ms": wall,
            "loop_cpu_ms": wall,
            "other_threads_cpu_ms": 0,
            "collection_ms": [0, 0, 0],
        }

    text = probe_report({"relay": [burst(8.0)], "platform": [burst(10.0)]}, [1, 10])

    assert "| 1 | relay | 0 |" in text
    assert "| 10 | platform/relay | | 1.25 | 1.25 |" in text
