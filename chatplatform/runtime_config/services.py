"""Writes of the runtime config: each change validated and kept as a new version."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from chatplatform.runtime_config import errors, selectors
from chatplatform.runtime_config.keys import key_get
from chatplatform.runtime_config.models import ConfigValue, ConfigVersion
from chatplatform.runtime_config.revisions import revision_bump


@transaction.atomic
def config_set(key: str, value: Any, *, author: AbstractBaseUser | None, reason: str) -> ConfigVersion:
    """Validate `value` against the key's schema and make it the key's current value, as a new
    version; every process reads it within `RUNTIME_CONFIG_RECHECK_SECONDS`, this one at once."""
    return _version_create(key, value, author=author, reason=reason, reverted_from=None)


@transaction.atomic
def config_revert(key: str, version: int, *, author: AbstractBaseUser | None, reason: str) -> ConfigVersion:
    """Make version `version`'s value current again, as a new version that says where it came
    from. The old value is validated anew: the schema may have changed since."""
    key_get(key)
    _reason_checked(reason)
    old = selectors.config_version(key, version)
    return _version_create(key, old.value, author=author, reason=reason, reverted_from=old.number)


def _reason_checked(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise errors.reason_required()
    return reason


def _version_create(
    key: str, value: Any, *, author: AbstractBaseUser | None, reason: str, reverted_from: int | None
) -> ConfigVersion:
    config_key = key_get(key)
    reason = _reason_checked(reason)
    validated = config_key.validate(value)
    # First, so that writers take turns on the counter's row and number versions one at a time.
    revision_bump(selectors.SCOPE)
    number = (ConfigVersion.objects.filter(key=key).aggregate(last=Max("number"))["last"] or 0) + 1
    now = timezone.now()
    version = ConfigVersion.objects.create(
        key=key,
        number=number,
        value=validated,
        author=author,
        author_name=author.get_username() if author else "",
        reason=reason,
        reverted_from=reverted_from,
        created_at=now,
    )
    ConfigValue.objects.update_or_create(
        key=key, defaults={"value": validated, "version": number, "updated_at": now, "updated_by": author}
    )
    selectors.values_copy.changed_here()
    return version
