"""Job kinds: each name is backed by one function, registered with `@job_kind`.

@job_kind("health_check", payload=None, max_attempts=3, description="...")
def run_health_check(ctx: JobContext, payload: dict) -> dict:
    ctx.progress(50, "database checked")
    return {...}   # the job's JSON result
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from rest_framework import serializers

from chatplatform.jobs.errors import JobCancelled

__all__ = ["JobCancelled", "JobContext", "JobKind", "job_kind", "kind_get", "kinds_all"]


class JobContext(Protocol):
    """What a running kind gets besides its payload."""

    job_id: int
    attempt: int

    def progress(self, percent: int, message: str = "") -> None:
        """Record progress and renew the lease; raises JobCancelled once the job is cancelled."""


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[JobContext, dict], Any]
    payload: type[serializers.Serializer] | None = None
    max_attempts: int = 3
    description: str = ""
    # Integration keys may create it (for their own chatbot, given in the payload's "chatbot").
    integrations: bool = False
    # The run and the success mark in one transaction: for short kinds whose effect must happen
    # exactly once even when the worker dies between the two. Progress is then invisible outside.
    atomic: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def payload_validate(self, payload: Any) -> dict:
        """The validated payload; raises serializers.ValidationError with the field errors."""
        if payload is None:
            payload = {}
        if not isinstance(payload, dict):
            raise serializers.ValidationError({"payload": ["Must be a JSON object."]})
        if self.payload is None:
            return {}
        serializer = self.payload(data=payload)
        if not serializer.is_valid():
            raise serializers.ValidationError({"payload": serializer.errors})
        return dict(serializer.data)

    def payload_fields(self) -> list[dict[str, Any]]:
        if self.payload is None:
            return []
        return [
            {
                "name": name,
                "type": _field_type(f),
                "required": bool(f.required),
                "help_text": str(f.help_text or ""),
            }
            for name, f in self.payload().fields.items()
            if not f.read_only
        ]


_kinds: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    payload: type[serializers.Serializer] | None = None,
    max_attempts: int = 3,
    description: str = "",
    integrations: bool = False,
    atomic: bool = False,
) -> Callable[[Callable[[JobContext, dict], Any]], Callable[[JobContext, dict], Any]]:
    """Register the decorated function as the kind `name` (registering a name again replaces it)."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")

    def register(fn: Callable[[JobContext, dict], Any]) -> Callable[[JobContext, dict], Any]:
        _kinds[name] = JobKind(
            name=name,
            run=fn,
            payload=payload,
            max_attempts=max_attempts,
            description=description or (fn.__doc__ or "").strip().split("\n")[0],
            integrations=integrations,
            atomic=atomic,
        )
        return fn

    return register


def kind_get(name: str) -> JobKind | None:
    return _kinds.get(name)


def kinds_all() -> list[JobKind]:
    return [_kinds[name] for name in sorted(_kinds)]


def _field_type(f: serializers.Field) -> str:
    for cls, name in (
        (serializers.BooleanField, "boolean"),
        (serializers.IntegerField, "integer"),
        (serializers.FloatField, "number"),
        (serializers.DecimalField, "number"),
        (serializers.DateTimeField, "datetime"),
        (serializers.DateField, "date"),
        (serializers.ChoiceField, "choice"),
        (serializers.ListField, "list"),
        (serializers.DictField, "object"),
        (serializers.JSONField, "object"),
    ):
        if isinstance(f, cls):
            return name
    return "string"
