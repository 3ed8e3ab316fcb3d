"""Health snapshots: the readiness checks, the workers, the queues, the scheduler and the apps'
facts at one moment."""

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from chatplatform import health
from chatplatform.monitoring import probes
from chatplatform.monitoring.facts import facts_collect
from chatplatform.monitoring.models import HealthSnapshot

# Facts such as the error rate cover this window before the snapshot.
FACTS_WINDOW = timedelta(minutes=5)
# The sweeper runs every minute: a scheduler quiet for this long has stopped.
BEAT_STALE_AFTER = timedelta(minutes=10)
# Share of failed or interrupted answers from which the platform counts as degraded.
ERROR_RATE_DEGRADED = 0.5


@dataclass
class HealthState:
    taken_at: datetime
    checks: dict[str, dict]
    workers: list[str] | None
    queue_depth: dict[str, int | None]
    last_beat_run_at: datetime | None
    facts: dict[str, float | int | None]
    duration_ms: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return HealthSnapshot.Status.DEGRADED if self.problems else HealthSnapshot.Status.OK

    def as_dict(self) -> dict:
        return {**asdict(self), "status": str(self.status)}


def health_state_read() -> HealthState:
    """Run every check now (a few seconds at most: the worker ping waits for replies)."""
    started = time.perf_counter()
    now = timezone.now()
    checks = {result.name: result.as_dict() for result in health.run_checks()}
    workers = probes.workers_ping()
    try:
        last_beat = probes.last_beat_run()
    except Exception:
        last_beat = None  # the database check says why
    state = HealthState(
        taken_at=now,
        checks=checks,
        workers=workers,
        queue_depth=probes.queue_depths(),
        last_beat_run_at=last_beat,
        facts=facts_collect(now - FACTS_WINDOW),
    )
    state.problems = _problems(state)
    state.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return state


def _problems(state: HealthState) -> list[str]:
    problems = [f"{name} down" for name, check in state.checks.items() if check["status"] != "up"]
    if state.workers == []:
        problems.append("no worker replied")
    if state.last_beat_run_at is not None and state.taken_at - state.last_beat_run_at > BEAT_STALE_AFTER:
        minutes = int((state.taken_at - state.last_beat_run_at).total_seconds() // 60)
        problems.append(f"the scheduler last ran {minutes} min ago")
    error_rate = state.facts.get("error_rate")
    if error_rate is not None and error_rate >= ERROR_RATE_DEGRADED:
        problems.append(f"{error_rate:.0%} of recent answers failed")
    return problems


def take_snapshot() -> HealthSnapshot:
    """Read the platform's health now and store it as a snapshot."""
    state = health_state_read()
    error_rate, active_chats = state.facts.get("error_rate"), state.facts.get("active_chats")
    return HealthSnapshot.objects.create(
        taken_at=state.taken_at,
        status=state.status,
        problems=state.problems,
        checks=state.checks,
        workers=None if state.workers is None else len(state.workers),
        worker_names=state.workers or [],
        queue_depth=state.queue_depth,
        last_beat_run_at=state.last_beat_run_at,
        error_rate=None if error_rate is None else float(error_rate),
        active_chats=None if active_chats is None else int(active_chats),
        facts=state.facts,
        duration_ms=state.duration_ms,
    )


def snapshots_delete_older_than(older_than) -> int:
    """Health snapshots taken before `older_than` (a retention cleaner)."""
    deleted, _ = HealthSnapshot.objects.filter(taken_at__lt=older_than).delete()
    return deleted
