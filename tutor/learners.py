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


@transaction.atomic
def learner_token_create(user) -> tuple[object, str]:
    """A new API token of the user, and its row; past TOKEN_LIMIT_PER_USER, the oldest tokens are
    revoked so that a learner who logs in on many devices is never locked out."""
    from django.utils import timezone
    from knox.models import get_token_model
    from knox.settings import knox_settings

    tokens = get_token_model().objects.filter(user=user)
    tokens.filter(expiry__lt=timezone.now()).delete()
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None:
        surplus = list(tokens.order_by("-created").values_list("pk", flat=True)[max(0, limit - 1) :])
        tokens.filter(pk__in=surplus).delete()
    return get_token_model().objects.create(user=user)
