"""Reads of the runtime config: the current values through this process's copy, the history."""

import difflib
import json
import logging
from typing import Any

from chatplatform.runtime_config import errors
from chatplatform.runtime_config.keys import key_get
from chatplatform.runtime_config.models import ConfigValue, ConfigVersion
from chatplatform.runtime_config.revisions import ProcessCopy

logger = logging.getLogger(__name__)

SCOPE = "runtime_config"


def _values_load() -> dict[str, Any]:
    values = {}
    for key, value in ConfigValue.objects.values_list("key", "value"):
        try:
            config_key = key_get(key)
        except errors.ConfigError:
            continue  # a key this code no longer registers
        try:
            values[key] = config_key.validate(value)
        except errors.ConfigError as exc:
            # A stored value the current schema refuses (changed in a deploy): the default serves
            # until staff save a value that passes.
            logger.warning("Runtime config %r: the stored value no longer passes: %s", key, exc.fields)
    return values


values_copy: ProcessCopy[dict[str, Any]] = ProcessCopy(SCOPE, load=_values_load, empty=dict)


def config_get(key: str) -> Any:
    return _value(values_copy.current(), key)


async def config_aget(key: str) -> Any:
    return _value(await values_copy.acurrent(), key)


def _value(values: dict[str, Any], key: str) -> Any:
    if key in values:
        return values[key]
    return key_get(key).default


def config_stored(key: str) -> ConfigValue | None:
    """The key's row straight from the database (admin), None when it was never set."""
    key_get(key)
    return ConfigValue.objects.filter(key=key).select_related("updated_by").first()


def config_versions(key: str) -> list[ConfigVersion]:
    """The key's versions, newest first."""
    key_get(key)
    return list(ConfigVersion.objects.filter(key=key).order_by("-number"))


def config_version(key: str, number: int) -> ConfigVersion:
    version = ConfigVersion.objects.filter(key=key, number=number).first()
    if version is None:
        raise errors.version_not_found(key, number)
    return version


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def config_diff(key: str, old: int | None, new: int) -> list[str]:
    """A unified diff from version `old` (the key's default when None) to version `new`."""
    before = key_get(key).default if old is None else config_version(key, old).value
    after = config_version(key, new).value
    return list(
        difflib.unified_diff(
            pretty_json(before).splitlines(),
            pretty_json(after).splitlines(),
            fromfile="default" if old is None else f"version {old}",
            tofile=f"version {new}",
            lineterm="",
        )
    )
