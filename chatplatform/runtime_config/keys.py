"""The registry of runtime config keys: each with a schema that validates its value, a default
and a description.

    from rest_framework import serializers
    from chatplatform.runtime_config.keys import register_key

    register_key("quiz_limits", serializers.DictField(child=serializers.IntegerField(min_value=1)),
                 default={"questions": 10}, description="...")

A schema is a DRF field or serializer (class or instance): its errors become the field-level
errors of `config_value_invalid`. Register from an AppConfig.ready() so every process knows the
same keys. Values are JSON: use FloatField rather than DecimalField.
"""

import copy
import json
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from chatplatform.runtime_config import errors


@dataclass(frozen=True)
class ConfigKey:
    name: str
    schema: serializers.Field
    default: Any
    description: str

    def validate(self, value: Any) -> Any:
        """The value as the schema makes it (types coerced), or `config_value_invalid`."""
        try:
            validated = self.schema.run_validation(value)
        except serializers.ValidationError as exc:
            raise errors.value_invalid(self.name, _error_fields(exc.detail)) from exc
        # Through JSON and back: what is stored is what every process will read.
        return json.loads(json.dumps(validated))


_keys: dict[str, ConfigKey] = {}


def register_key(name: str, schema: Any, *, default: Any, description: str = "") -> ConfigKey:
    """Add a key; its default must pass its own schema. Registering a name twice is an error,
    so that two apps cannot silently share (or fight over) one key."""
    if name in _keys:
        raise errors.ConfigError(errors.KEY_TAKEN, f"The runtime config key {name!r} is already registered.")
    if isinstance(schema, type):
        schema = schema()
    unchecked = ConfigKey(name=name, schema=schema, default=default, description=description)
    key = ConfigKey(
        name=name, schema=schema, default=unchecked.validate(copy.deepcopy(default)), description=description
    )
    _keys[name] = key
    return key


def key_get(name: str) -> ConfigKey:
    try:
        return _keys[name]
    except KeyError:
        raise errors.key_unknown(name) from None


def keys_all() -> list[ConfigKey]:
    return sorted(_keys.values(), key=lambda key: key.name)


def _error_fields(detail: Any) -> dict[str, Any]:
    flat = _flatten(detail)
    return flat if isinstance(flat, dict) else {"value": flat}


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)
