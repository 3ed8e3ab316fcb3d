"""Who may use the jobs API: staff sessions see every job, an integration only its chatbot's.

The integration key belongs to an app (conversations), and chatplatform imports no app: the app
registers its authentication class and how to read the chatbot off what it authenticates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import authentication, permissions


@dataclass(frozen=True)
class Integration:
    authentication: type[authentication.BaseAuthentication]
    chatbot_of: Callable[[Any], str | None]
    name_of: Callable[[Any], str]


_integration: Integration | None = None


def register_integration_auth(
    authentication_class: type[authentication.BaseAuthentication],
    *,
    chatbot_of: Callable[[Any], str | None],
    name_of: Callable[[Any], str] = lambda auth: "",
) -> None:
    """Let `authentication_class` (request.auth = a per-chatbot key) reach its chatbot's jobs."""
    global _integration
    _integration = Integration(authentication_class, chatbot_of, name_of)


def authenticators() -> list[authentication.BaseAuthentication]:
    found = [_integration.authentication()] if _integration else []
    return [*found, authentication.SessionAuthentication()]


def integration_chatbot(request) -> str | None:
    """The chatbot of the request's integration key, or None for a staff session."""
    if _integration is None or request.auth is None:
        return None
    return _integration.chatbot_of(request.auth) or None


def integration_name(request) -> str:
    if _integration is None or request.auth is None:
        return ""
    return _integration.name_of(request.auth)[:100]


class IsStaffOrIntegration(permissions.BasePermission):
    message = "Staff or an integration key are needed."

    def has_permission(self, request, view) -> bool:
        if integration_chatbot(request):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)
