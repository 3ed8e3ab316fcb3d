"""The runtime config's stable error codes."""

from typing import Any

from rest_framework import status

from chatplatform.errors import ApplicationError

KEY_UNKNOWN = "config_key_unknown"
KEY_TAKEN = "config_key_taken"
VALUE_INVALID = "config_value_invalid"
REASON_REQUIRED = "config_reason_required"
VERSION_NOT_FOUND = "config_version_not_found"


class ConfigError(ApplicationError):
    """A config key, value, reason or version the runtime config refuses."""


def key_unknown(key: str) -> ConfigError:
    return ConfigError(
        KEY_UNKNOWN, f"No runtime config key is named {key!r}.", status_code=status.HTTP_404_NOT_FOUND
    )


def value_invalid(key: str, fields: dict[str, Any]) -> ConfigError:
    return ConfigError(VALUE_INVALID, f"The value for {key!r} is not valid.", fields=fields)


def reason_required() -> ConfigError:
    return ConfigError(REASON_REQUIRED, "Say why the value changes: a reason is required.")


def version_not_found(key: str, version: int) -> ConfigError:
    return ConfigError(
        VERSION_NOT_FOUND,
        f"{key!r} has no version {version}.",
        status_code=status.HTTP_404_NOT_FOUND,
    )
