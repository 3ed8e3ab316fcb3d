"""Statistics of the recorded rounds, the report table and the targets of the issue."""

from __future__ import annotations

import os
import platform as platform_info
from pathlib import Path
from typing import Any

import numpy as np

from bench.stream_clients import Round

PATHS = ("direct", "relay", "platform")
SERVERS = ("relay", "platform")
# Targets of the issue: added TTFT p50 at 1 client, and platform/relay ratios at 10 and 100.
TARGET_ADDED_TTFT_MS_AT_1 = 5.0
TARGET_RATIO = 1.3
# The 90 % interval of a ratio: resample whole rounds (a round's clients share its bursts).
RESAMPLES = 2000
INTERVAL = (5.0, 95.0)


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def summarise(rounds: list[Round], memory: dict[str, dict[int, float]]) -> dict[int, dict[str, dict]]:
    summary: dict[int, dict[str, dict]] = {}
    for concurrency in sorted({r.concurrency for r in rounds}):
        level: dict[str, dict] = {}
        for path in PATHS:
            chosen = [r for r in rounds if r.concurrency == concurrency and r.path == path]
            answers = [a for r in chosen for a in r.answers]
            ttfts = [a.ttft * 1000 for a in answers if a.ttft is not None]
            gaps = [g * 1000 for a in answers for g in a.gaps]
            tokens = sum(r.tokens for r in chosen)
            cpu = [r.server_cpu for r in chosen if r.server_cpu is not None]
            level[path] = {
                "rounds": len(chosen),
                "answers": len(answers),
                "ttft_p50_ms": percentile(ttfts, 50),
                "ttft_p99_ms": percentile(ttfts, 99),
                "itl_p50_ms": percentile(gaps, 50),
                "itl_p99_ms": percentile(gaps, 99),
                "tokens_per_s": mean([r.tokens / r.seconds for r in chosen]),
                "events_per_answer": (sum(a.events for a in answers) / len(answers)) if answers else None,
                "cpu_us_per_token": (sum(cpu) / tokens * 1e6) if cpu and tokens else None,
                "driver_cpu_share": mean([r.driver_cpu / r.seconds for r in chosen]),
                "services_cpu_cores": mean([r.services_cpu / r.seconds for r in chosen]),
                "other_cpu_cores": mean([r.other_cpu / r.seconds for r in chosen]),
                "memory_kib_per_connection": memory.get(path, {}).get(concurrency),
                "lost": sum(a.lost for a in answers),
                "reordered": sum(a.reordered for a in answers),
                "duplicated": sum(a.duplicated for a in answers),
                "errors": sorted({a.error for a in answers if a.error}),
            }
        direct = level["direct"]
        for path in SERVERS:
            row = level[path]
            for key in ("ttft_p50_ms", "ttft_p99_ms", "itl_p50_ms", "itl_p99_ms"):
                if row[key] is not None and direct[key] is not None:
                    row[f"added_{key}"] = row[key] - direct[key]
        summary[concurrency] = level
    return summary


def _round_ttfts(rounds: list[Round], concurrency: int) -> dict[str, list[np.ndarray]]:
    """Per path, each round's TTFTs (ms) at `concurrency`, in the order the rounds ran."""
    return {
        path: [
            np.array([a.ttft * 1000 for a in r.answers if a.ttft is not None])
            for r in rounds
            if r.concurrency == concurrency and r.path == path
        ]
        for path in PATHS
    }


def added_ttft_ratio_intervals(
    rounds: list[Round], concurrency: int, qs: tuple[float, ...], *, resamples: int = RESAMPLES, seed: int = 0
) -> dict[float, tuple[float, float]]:
    """The 90 % interval of platform/relay added TTFT at each percentile of `qs`: the rounds are
    drawn with replacement (the i-th round of each path together, as they ran interleaved),
    pooled, and the ratios worked out again, `resamples` times (one draw serves every percentile).
    A percentile without an interval (fewer than two rounds, no relay delay) is left out."""
    per_path = _round_ttfts(rounds, concurrency)
    count = min(len(per_path[path]) for path in PATHS)
    if count < 2:
        return {}
    rng = np.random.default_rng(seed)
    ratios: dict[float, list[float]] = {q: [] for q in qs}
    for _ in range(resamples):
        drawn = rng.integers(0, count, count)
        pooled = {
            path: np.percentile(np.concatenate([per_path[path][i] for i in drawn]), qs) for path in PATHS
        }
        for n, q in enumerate(qs):
            relay_added = pooled["relay"][n] - pooled["direct"][n]
            if relay_added > 0:
                ratios[q].append((pooled["platform"][n] - pooled["direct"][n]) / relay_added)
    intervals = {}
    for q, values in ratios.items():
        if values:
            low, high = np.percentile(values, INTERVAL)
            intervals[q] = (float(low), float(high))
    return intervals


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return a / b


def fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(summary: dict[int, dict[str, dict]]) -> str:
    header = (
        "| N | path | added TTFT p50 / p99 ms | added ITL p50 / p99 ms | tokens/s | CPU µs/token "
        "| KiB/conn | lost / reordered |\n|---|---|---|---|---|---|---|---|"
    )
    lines = [header]
    for concurrency, level in summary.items():
        direct = level["direct"]
        lines.append(
            f"| {concurrency} | direct (TTFT {fmt(direct['ttft_p50_ms'])} / {fmt(direct['ttft_p99_ms'])}, "
            f"ITL {fmt(direct['itl_p50_ms'])} / {fmt(direct['itl_p99_ms'])}) | 0 | 0 "
            f"| {fmt(direct['tokens_per_s'], 0)} | - | - | {direct['lost']} / {direct['reordered']} |"
        )
        for path in SERVERS:
            row = level[path]
            lines.append(
                f"| {concurrency} | {path} "
                f"| {fmt(row.get('added_ttft_p50_ms'))} / {fmt(row.get('added_ttft_p99_ms'))} "
                f"| {fmt(row.get('added_itl_p50_ms'), 2)} / {fmt(row.get('added_itl_p99_ms'), 2)} "
                f"| {fmt(row['tokens_per_s'], 0)} | {fmt(row['cpu_us_per_token'], 0)} "
                f"| {fmt(row['memory_kib_per_connection'], 0)} | {row['lost']} / {row['reordered']} |"
            )
        relay, plat = level["relay"], level["platform"]
        lines.append(
            f"| {concurrency} | platform/relay | "
            f"{fmt(ratio(plat.get('added_ttft_p50_ms'), relay.get('added_ttft_p50_ms')), 2)} / "
            f"{fmt(ratio(plat.get('added_ttft_p99_ms'), relay.get('added_ttft_p99_ms')), 2)} | | | "
            f"{fmt(ratio(plat['cpu_us_per_token'], relay['cpu_us_per_token']), 2)} "
            f"| {fmt(ratio(plat['memory_kib_per_connection'], relay['memory_kib_per_connection']), 2)} | |"
        )
    return "\n".join(lines)


def targets(summary: dict[int, dict[str, dict]], rounds: list[Round]) -> list[tuple[str, bool | None, str]]:
    """Each target of the issue: (what, met, measured); the TTFT ratios carry their 90 % interval
    from resampling `rounds`."""
    checks: list[tuple[str, bool | None, str]] = []
    if 1 in summary:
        added = summary[1]["platform"].get("added_ttft_p50_ms")
        checks.append(
            (
                f"added TTFT p50 <= {TARGET_ADDED_TTFT_MS_AT_1:g} ms at 1 client",
                None if added is None else added <= TARGET_ADDED_TTFT_MS_AT_1,
                f"{fmt(added, 2)} ms",
            )
        )
    for concurrency in (c for c in summary if c >= 10):
        relay, plat = summary[concurrency]["relay"], summary[concurrency]["platform"]
        intervals = added_ttft_ratio_intervals(rounds, concurrency, (50, 99))
        for label, key, q in (
            ("added TTFT p50", "added_ttft_p50_ms", 50),
            ("added TTFT p99", "added_ttft_p99_ms", 99),
            ("CPU per token", "cpu_us_per_token", None),
        ):
            value = ratio(plat.get(key), relay.get(key))
            measured = f"{fmt(plat.get(key), 1)} vs {fmt(relay.get(key), 1)} = {fmt(value, 2)} x"
            interval = intervals.get(q)
            if interval is not None:
                measured += f" [90 %: {interval[0]:.2f}-{interval[1]:.2f}]"
            checks.append(
                (
                    f"{label} <= {TARGET_RATIO:g} x relay at {concurrency} clients",
                    None if value is None else value <= TARGET_RATIO,
                    measured,
                )
            )
    bad = sum(summary[c][p][k] for c in summary for p in PATHS for k in ("lost", "reordered", "duplicated"))
    checks.append(("zero lost or reordered tokens", bad == 0, str(bad)))
    return checks


def report(summary: dict[int, dict[str, dict]], checks: list[tuple[str, bool | None, str]]) -> str:
    """The table, then each target with its verdict."""
    lines = [table(summary), ""]
    for label, met, measured in checks:
        verdict = "n/a" if met is None else ("met" if met else "NOT met")
        lines.append(f"- {label}: {measured} ({verdict})")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import daphne
    import django

    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform_info.processor(),
    )
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform_info.python_version(),
        "django": django.get_version(),
        "daphne": daphne.__version__,
        "kernel": platform_info.release(),
    }
