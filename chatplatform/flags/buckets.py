"""Where a subject falls in a flag's rollout: a hash of the flag's key, the subject's kind and
its id, so the same in every process, on every device and after every restart. Pure Python."""

import hashlib
from decimal import Decimal
from typing import Any

BUCKETS = 10000  # hundredths of a percent


def bucket(key: str, kind: str, subject_id: Any) -> float:
    """The subject's bucket for the flag, 0.00-99.99; it is in when this is below the percentage."""
    return bucket_units(key, kind, str(subject_id)) / 100


def bucket_units(key: str, kind: str, subject_id: str) -> int:
    digest = hashlib.sha256(f"{key}:{kind}:{subject_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def threshold_units(percentage: Decimal | float | int) -> int:
    return int(Decimal(str(percentage)) * 100)


def in_rollout(key: str, kind: str, subject_id: Any, percentage: Decimal | float | int) -> bool:
    """Whether the subject is among `percentage` % of subjects for the flag. A subject in at one
    percentage is in at every higher one: its bucket does not move, only the bar."""
    return bucket_units(key, kind, str(subject_id)) < threshold_units(percentage)
