"""Learners' API tokens: `Authorization: Bearer <token>` from `POST /api/v1/auth/token/`.

django-rest-knox stores only a digest of each token, gives it an expiry (REST_KNOX in settings)
and deletes it on revoke; the prefix is configured as `Bearer`.
"""

from knox.auth import TokenAuthentication


class LearnerTokenAuthentication(TokenAuthentication):
    """A learner's Bearer token; `request.user` is the learner, `request.auth` the token row.

    Inactive users are refused by knox itself, so a deactivated learner's tokens stop working.
    """
