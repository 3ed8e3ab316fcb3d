"""Learner accounts: a learner is an active `auth.User` without staff rights."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from chatplatform.errors import ApplicationError

LEARNER_EXISTS = "learner_exists"
PASSWORD_TOO_WEAK = "password_too_weak"  # noqa: S105  (an error code)
DEMO_LEARNER = "demo-learner"


@transaction.atomic
def learner_create(*, username: str, password: str | None = None) -> tuple[object, str]:
    """Create a learner; returns the user and the password (generated when none is given)."""
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ApplicationError(LEARNER_EXISTS, f'A user named "{username}" exists already.', status_code=409)
    generated = password is None
    password = password if password is not None else secrets.token_urlsafe(12)
    user = User(username=username, is_staff=False, is_superuser=False)
    if not generated:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ApplicationError(PASSWORD_TOO_WEAK, " ".join(exc.messages)) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user, password
