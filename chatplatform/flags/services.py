"""Writes of feature flags for code and commands; admin edits the rows directly (the same
signals tell every process)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from rest_framework import status

from chatplatform.errors import ApplicationError
from chatplatform.flags.models import Flag, FlagOverride, SubjectKind

FLAG_UNKNOWN = "flag_unknown"
PERCENTAGE_INVALID = "flag_percentage_invalid"
SUBJECT_KIND_INVALID = "flag_subject_kind_invalid"


def _flag(key: str) -> Flag:
    flag = Flag.objects.select_for_update().filter(key=key).first()
    if flag is None:
        raise ApplicationError(
            FLAG_UNKNOWN, f"No feature flag is named {key!r}.", status_code=status.HTTP_404_NOT_FOUND
        )
    return flag


@transaction.atomic
def flag_update(key: str, *, enabled: bool | None = None, percentage: Any = None) -> Flag:
    """Switch the flag or change its rollout percentage (0-100, two decimals)."""
    flag = _flag(key)
    if percentage is not None:
        try:
            value = Decimal(str(percentage))
        except InvalidOperation:
            value = Decimal(-1)
        if not Decimal(0) <= value <= Decimal(100) or value != value.quantize(Decimal("0.01")):
            raise ApplicationError(
                PERCENTAGE_INVALID,
                "The percentage must be 0-100 with at most two decimals.",
                fields={"percentage": ["Use a number from 0 to 100, e.g. 12.5."]},
            )
        flag.percentage = value
    if enabled is not None:
        flag.enabled = enabled
    flag.save()
    return flag


@transaction.atomic
def flag_override_set(key: str, subject: tuple[str, Any], *, enabled: bool | None, note: str = "") -> None:
    """Always on (True) or always off (False) for one subject; None removes the override."""
    flag = _flag(key)
    kind, subject_id = subject[0], str(subject[1])
    if kind not in SubjectKind.values or (flag.subject_kinds and kind not in flag.subject_kinds):
        allowed = flag.subject_kinds or SubjectKind.values
        raise ApplicationError(
            SUBJECT_KIND_INVALID,
            f"{key} applies to subjects of kind {', '.join(allowed)}.",
            fields={"subject_kind": [f"Use one of: {', '.join(allowed)}."]},
        )
    if enabled is None:
        for override in FlagOverride.objects.filter(flag=flag, subject_kind=kind, subject_id=subject_id):
            override.delete()
        return
    FlagOverride.objects.update_or_create(
        flag=flag, subject_kind=kind, subject_id=subject_id, defaults={"enabled": enabled, "note": note}
    )
