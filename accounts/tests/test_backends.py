"""The request's user comes with the learner profile in one query, by session and by token,
with the same refusals as before (inactive, unknown, password changed)."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.urls import reverse
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken

from accounts.backends import USER_BACKEND, JWTUserAuthentication, UserBackend
from accounts.lockout import LockoutBackend
from accounts.models import LearnerProfile, User

pytestmark = pytest.mark.django_db


def test_the_session_user_comes_with_the_profile_in_one_query(
    client, learner, django_assert_num_queries
):
    LearnerProfile.objects.filter(user=learner).update(timezone="Europe/Berlin")
    # The lockout backend loads no user, so the test client's logins name this one too.
    assert not hasattr(LockoutBackend(), "get_user")
    client.force_login(learner)
    assert client.session[BACKEND_SESSION_KEY] == USER_BACKEND
    with django_assert_num_queries(1):
        user = UserBackend().get_user(learner.pk)
        assert user == learner
        assert user.profile.timezone == "Europe/Berlin"


def test_a_user_without_a_profile_costs_no_second_query(django_assert_num_queries):
    staff = User.objects.create_user(email="staff@example.com", password="x-long-password")
    LearnerProfile.objects.filter(user=staff).delete()
    with django_assert_num_queries(1):
        user = UserBackend().get_user(staff.pk)
        assert not hasattr(user, "profile")


def test_inactive_and_unknown_session_users_are_refused(learner):
    User.objects.filter(pk=learner.pk).update(is_active=False)
    assert UserBackend().get_user(learner.pk) is None
    assert UserBackend().get_user(10**9) is None


def test_a_password_login_stores_the_backend_that_loads_the_profile(client, learner):
    response = client.post(
        reverse("accounts:login"),
        {"username": learner.email, "password": "correct-horse-battery"},
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == USER_BACKEND
    assert client.get(reverse("learning:dashboard")).status_code == 200


def test_the_token_user_comes_with_the_profile_in_one_query(learner, django_assert_num_queries):
    token = AccessToken.for_user(learner)
    with django_assert_num_queries(1):
        user = JWTUserAuthentication().get_user(token)
        assert user == learner
        assert user.profile.timezone == learner.profile.timezone


def test_token_users_are_refused_when_inactive_unknown_or_their_password_changed(learner, api):
    token = AccessToken.for_user(learner)
    learner.set_password("a-new-long-password")
    learner.save()
    # simplejwt's check (CHECK_REVOKE_TOKEN) only when the token carries the password hash.
    if token.get("hash_password") is not None:
        with pytest.raises(AuthenticationFailed):
            JWTUserAuthentication().get_user(token)
    User.objects.filter(pk=learner.pk).update(is_active=False)
    with pytest.raises(AuthenticationFailed):
        JWTUserAuthentication().get_user(AccessToken.for_user(learner))
    User.objects.filter(pk=learner.pk).delete()
    with pytest.raises(AuthenticationFailed):
        JWTUserAuthentication().get_user(token)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/ai/dashboard").status_code == 401
