"""Which time a dashboard request covers: its window, cut into segments that are either a stored
day's rollup or a live stretch computed from the raw rows (today so far, the last 24 hours).

`range=24h` is the last 24 hours (two live segments: the part before midnight and today so far);
`range=7d`/`30d` are the last 7/30 calendar days (UTC) including today; `from`/`to` are days,
inclusive. Complete days come from the rollups, today from the raw rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.utils import timezone

from chatplatform.errors import ApplicationError

RANGES = {"24h": 1, "7d": 7, "30d": 30}
DEFAULT_RANGE = "7d"
MAX_DAYS = 366


@dataclass(frozen=True)
class Segment:
    day: date
    start: datetime
    end: datetime
    # Read from the stored rollup of `day`; else computed live over [start, end).
    stored: bool


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    segments: list[Segment]
    # The request's own range parameters, repeated in every drill-down URL.
    params: dict[str, str] = field(default_factory=dict)

    @property
    def stored_days(self) -> list[date]:
        return [s.day for s in self.segments if s.stored]

    @property
    def live_segments(self) -> list[Segment]:
        return [s for s in self.segments if not s.stored]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def window_resolve(
    range_name: str | None, day_from: date | None, day_to: date | None, *, now: datetime | None = None
) -> Window:
    """The window of `range` or `from`/`to` (not both); the default is the last 7 days."""
    now = now or timezone.now()
    today = now.date()
    if range_name and (day_from or day_to):
        raise ApplicationError("range_conflict", "Give either range or from/to, not both.")
    if range_name == "24h":
        start = now - timedelta(hours=24)
        segments = [
            Segment(start.date(), start, _midnight(today), stored=False),
            Segment(today, _midnight(today), now, stored=False),
        ]
        return Window(start, now, [s for s in segments if s.start < s.end], {"range": "24h"})
    if day_from or day_to:
        first = day_from or (day_to or today) - timedelta(days=RANGES[DEFAULT_RANGE] - 1)
        last = day_to or today
        if first > last:
            raise ApplicationError(
                "date_range_reversed", "from must not be after to.", fields={"to": ["Before from."]}
            )
        if (last - first).days + 1 > MAX_DAYS:
            raise ApplicationError("date_range_too_long", f"A window covers at most {MAX_DAYS} days.")
        params = {key: value.isoformat() for key, value in (("from", day_from), ("to", day_to)) if value}
    else:
        range_name = range_name or DEFAULT_RANGE
        first, last = today - timedelta(days=RANGES[range_name] - 1), today
        params = {"range": range_name}
    last = min(last, today)
    segments = []
    day = first
    while day <= last:
        start = _midnight(day)
        if day < today:
            segments.append(Segment(day, start, start + timedelta(days=1), stored=True))
        else:
            segments.append(Segment(day, start, now, stored=False))
        day += timedelta(days=1)
    end = min(_midnight(last) + timedelta(days=1), now)
    return Window(_midnight(first), max(end, _midnight(first)), segments, params)
