"""The child process that reads one document, under memory and CPU limits of its own.

Run as `python -m tutor.documents.extraction_child` with a JSON request on stdin
(`{"path", "name", "max_bytes", "max_pages", "timeout_seconds", "memory_mb"}`); it answers one
JSON line on stdout: `{"text", "pages", "page_starts", "kind"}` or `{"error": {"code", "message"}}`. A parser
that runs away with memory or CPU takes down only this process; the parent turns that into an
error code. Django is configured bare here: the shared extraction needs no project settings
when it is given its limits.
"""

import json
import resource
import sys


def _limit(memory_mb: int, cpu_seconds: float) -> None:
    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = max(1, int(cpu_seconds) + 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def main() -> int:
    request = json.loads(sys.stdin.readline())
    # Imports first, so that the limits bound the parsing of this document, not Python's start.
    from django.conf import settings

    settings.configure()
    from chatplatform.documents.extraction import ExtractionLimits, document_text_extract
    from chatplatform.errors import ApplicationError

    limits = ExtractionLimits(
        max_bytes=int(request["max_bytes"]),
        max_pages=int(request["max_pages"]),
        timeout_seconds=float(request["timeout_seconds"]),
    )
    _limit(int(request["memory_mb"]), float(request["timeout_seconds"]))
    try:
        with open(request["path"], "rb") as file:
            data = file.read()
        extracted = document_text_extract(name=request["name"], data=data, limits=limits)
        answer = {
            "text": extracted.text,
            "pages": extracted.pages,
            "page_starts": extracted.page_starts,
            "kind": extracted.kind,
        }
    except ApplicationError as exc:
        answer = {"error": {"code": exc.code, "message": exc.message}}
    except MemoryError:
        answer = {"error": {"code": "document_memory_limit", "message": ""}}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
