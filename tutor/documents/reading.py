"""Read a stored document in a child process with wall-time, CPU and memory limits.

The shared extraction checks its deadline only between pages; a single pathological page or a
parser that balloons in memory could still hold a worker. In a child process the kernel enforces
the limits (`RLIMIT_AS`, `RLIMIT_CPU`) and the parent kills it past the wall time, so the worker
itself always survives and the document gets an error code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from django.conf import settings
from rest_framework import status

from chatplatform.documents import errors as codes
from chatplatform.documents.extraction import ExtractionLimits
from chatplatform.errors import ApplicationError

DOCUMENT_MEMORY_LIMIT = "document_memory_limit"
DOCUMENT_EXTRACTION_FAILED = "document_extraction_failed"
# Interpreter start and imports, on top of the extraction's own time.
_STARTUP_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ReadDocument:
    text: str
    pages: int | None
    kind: str
    page_starts: tuple[int, ...] | None = None


def document_read(
    *, path: str, name: str, limits: ExtractionLimits, memory_mb: int | None = None
) -> ReadDocument:
    """The normalised text of the file at `path`; raises ApplicationError with a stable code."""
    memory_mb = memory_mb or settings.TUTOR_EXTRACTION_MEMORY_MB
    request = {
        "path": path,
        "name": name,
        "max_bytes": limits.max_bytes,
        "max_pages": limits.max_pages,
        "timeout_seconds": limits.timeout_seconds,
        "memory_mb": memory_mb,
    }
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "tutor.documents.extraction_child"],
            input=json.dumps(request) + "\n",
            capture_output=True,
            text=True,
            timeout=limits.timeout_seconds + _STARTUP_SECONDS,
            cwd=settings.BASE_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _timeout(name, limits) from None
    answer = _answer(finished.stdout)
    if answer is None:
        # The kernel ended it: SIGXCPU/SIGKILL after the CPU limit, or a crash for lack of memory.
        if finished.returncode in (-9, -24):
            raise _timeout(name, limits)
        raise ApplicationError(
            DOCUMENT_MEMORY_LIMIT if "MemoryError" in finished.stderr else DOCUMENT_EXTRACTION_FAILED,
            f'Reading "{name}" needed more memory than a document may use ({memory_mb} MB).'
            if "MemoryError" in finished.stderr
            else f'"{name}" could not be read; the file may be damaged.',
        )
    if "error" in answer:
        code = answer["error"]["code"]
        if code == DOCUMENT_MEMORY_LIMIT:
            raise ApplicationError(
                code, f'Reading "{name}" needed more memory than a document may use ({memory_mb} MB).'
            )
        raise ApplicationError(code, answer["error"]["message"])
    starts = answer.get("page_starts")
    return ReadDocument(
        text=answer["text"],
        pages=answer["pages"],
        kind=answer["kind"],
        page_starts=tuple(starts) if starts else None,
    )


def _answer(stdout: str) -> dict | None:
    try:
        answer = json.loads(stdout)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _timeout(name: str, limits: ExtractionLimits) -> ApplicationError:
    return ApplicationError(
        codes.DOCUMENT_EXTRACTION_TIMEOUT,
        f'Reading "{name}" took longer than {limits.timeout_seconds:g} seconds; split it into smaller files.',
        status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )
