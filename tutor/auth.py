"""Learners' API tokens: `Authorization: Bearer <token>` from `POST /api/v1/auth/token/`.

django-rest-knox stores only a digest of each token, gives it an expiry (REST_KNOX in settings)
and deletes it on revoke; the prefix is configured as `Bearer`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from knox.settings import knox_settings


class LearnerTokenAuthentication(TokenAuthentication):
    """A learner's Bearer token; `request.user` is the learner, `request.auth` the token row.

    Inactive users are refused by knox itself, so a deactivated learner's tokens stop working.
    """


class LearnerTokenScheme(OpenApiAuthenticationExtension):
    """The API schema's description of the learner token (`Authorization: Bearer <token>`)."""

    target_class = LearnerTokenAuthentication
    name = "learnerToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=knox_settings.AUTH_HEADER_PREFIX
        )
