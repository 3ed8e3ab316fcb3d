"""The words every document owner uses for where a document's processing stands.

`ready` rather than `completed`: the knowledge-base API published it first. A pipeline run
reports `DocumentProgress` values to a callback; each app turns them into writes on its own model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class DocumentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DocumentProgress:
    """One step of a run: `percent` 0-100 for people, `done`/`total` passages for bars."""

    status: DocumentStatus
    percent: int
    message: str
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[DocumentProgress], None]
