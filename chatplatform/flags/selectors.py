"""Evaluation of feature flags from this process's copy of them."""

from dataclasses import dataclass
from typing import Any

from chatplatform.flags.buckets import bucket_units, threshold_units
from chatplatform.flags.models import Flag, FlagOverride
from chatplatform.runtime_config.revisions import ProcessCopy, revision_bump

SCOPE = "flags"

Subject = tuple[str, Any]


@dataclass(frozen=True)
class FlagState:
    enabled: bool
    # Hundredths of a percent, as the buckets: 12.5 % is 1250 of 10000.
    threshold: int
    kinds: frozenset[str]
    overrides: dict[tuple[str, str], bool]


def _flags_load() -> dict[str, FlagState]:
    overrides: dict[int, dict[tuple[str, str], bool]] = {}
    for flag_id, kind, subject_id, enabled in FlagOverride.objects.values_list(
        "flag_id", "subject_kind", "subject_id", "enabled"
    ):
        overrides.setdefault(flag_id, {})[(kind, subject_id)] = enabled
    return {
        flag.key: FlagState(
            enabled=flag.enabled,
            threshold=threshold_units(flag.percentage),
            kinds=frozenset(flag.subject_kinds or ()),
            overrides=overrides.get(flag.pk, {}),
        )
        for flag in Flag.objects.all()
    }


flags_copy: ProcessCopy[dict[str, FlagState]] = ProcessCopy(SCOPE, load=_flags_load, empty=dict)


def flag_is_enabled(key: str, subject: Subject | None = None) -> bool:
    """Whether flag `key` is on for `subject` (`(kind, id)`): its override if it has one, else
    the flag is enabled, applies to the kind and the subject's bucket is below the percentage.
    Without a subject, only a flag enabled for 100 % is on. An unknown flag is off."""
    return _evaluate(flags_copy.current(), key, subject)


async def flag_ais_enabled(key: str, subject: Subject | None = None) -> bool:
    return _evaluate(await flags_copy.acurrent(), key, subject)


def _evaluate(states: dict[str, FlagState], key: str, subject: Subject | None) -> bool:
    state = states.get(key)
    if state is None:
        return False
    if subject is None:
        return state.enabled and state.threshold >= 10000
    kind, subject_id = subject[0], str(subject[1])
    override = state.overrides.get((kind, subject_id))
    if override is not None:
        return override
    if state.kinds and kind not in state.kinds:
        return False
    return state.enabled and bucket_units(key, kind, subject_id) < state.threshold


def flags_changed(**kwargs: Any) -> None:
    """Signal receiver for every save and delete of a flag or an override."""
    if kwargs.get("raw"):
        return  # loaddata: the fixture's own rows, before the app is in use
    revision_bump(SCOPE)
    flags_copy.changed_here()
