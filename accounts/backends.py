"""Where a request's user comes from, with the learner profile joined in.

Most learner pages and API views read the profile (the dashboard: time zone, skill levels,
difficulty, segment). Loading it with the user, in the same query (a LEFT JOIN: staff and
instructors have no profile), saves the round trip that ``user.profile`` would cost on
every such request; the doors that do not read it pay one join. Both doors that load a
user per request do it: the session (``UserBackend``) and the API's bearer token
(``JWTUserAuthentication``).
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.models import User

# The session backend's dotted path, for ``login(..., backend=...)``.
USER_BACKEND = "accounts.backends.UserBackend"


def _users():
    return User._default_manager.select_related("profile")


def session_user(backend: ModelBackend, user_id) -> User | None:
    """ModelBackend's ``get_user`` (the user, if active), with the profile joined in."""
    try:
        user = _users().get(pk=user_id)
    except User.DoesNotExist:
        return None
    return user if backend.user_can_authenticate(user) else None


class UserBackend(ModelBackend):
    """Django's ModelBackend (passwords, permissions), whose session user comes with its
    profile."""

    def get_user(self, user_id):
        return session_user(self, user_id)


class JWTUserAuthentication(JWTAuthentication):
    """simplejwt's bearer-token authentication, whose user comes with its profile; the same
    checks as simplejwt's ``get_user`` (user found, active, password unchanged)."""

    def get_user(self, validated_token):
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken(_("Token contained no recognizable user identification")) from error
        try:
            user = _users().get(**{api_settings.USER_ID_FIELD: user_id})
        except User.DoesNotExist as error:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from error
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class JWTUserScheme(SimpleJWTScheme):
    """The API schema's bearer scheme (``jwtAuth``) for ``JWTUserAuthentication``, as
    drf-spectacular describes simplejwt's own class (registered by being defined)."""

    target_class = "accounts.backends.JWTUserAuthentication"
