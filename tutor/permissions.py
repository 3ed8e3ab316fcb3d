"""Who may use the tutor's API: any active, authenticated user (a learner)."""

from rest_framework.permissions import BasePermission


class IsLearner(BasePermission):
    """An authenticated, active user. Ownership of each object is checked by the selectors,
    which answer 404 for another learner's ids."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and user.is_active)
