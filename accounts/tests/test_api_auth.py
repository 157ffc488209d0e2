from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.api import AuthRateThrottle
from accounts.models import User


def register(api, **overrides):
    body = {"email": "Zoe@Example.com", "password": "Str0ng-pass-phrase", "full_name": "Zoe"}
    return api.post("/api/v1/auth/register", body | overrides, format="json")


@pytest.mark.django_db
def test_register_login_refresh_and_logout_revokes_the_refresh_token(api):
    created = register(api, timezone="Europe/Paris")
    assert created.status_code == 201
    assert created.json()["email"] == "zoe@example.com"
    assert created.json()["role"] == "learner"

    tokens = api.post(
        "/api/v1/auth/login",
        {"email": "zoe@example.com", "password": "Str0ng-pass-phrase"},
        format="json",
    ).json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    profile = client.get("/api/v1/profile").json()
    assert (profile["email"], profile["timezone"]) == ("zoe@example.com", "Europe/Paris")

    refreshed = api.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    new_refresh = refreshed.json()["refresh"]  # rotation: the old one is now blacklisted

    assert (
        api.post("/api/v1/auth/logout", {"refresh": new_refresh}, format="json").status_code == 200
    )
    again = api.post("/api/v1/auth/refresh", {"refresh": new_refresh}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_not_valid"
    assert again.json()["error"]["message"].startswith("This token is invalid, expired or revoked")
    # A bad access token: the same code, and what to do about it.
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    rejected = client.get("/api/v1/profile")
    assert rejected.status_code == 401
    assert "POST /api/v1/auth/login" in rejected.json()["error"]["message"]


@pytest.mark.django_db
def test_register_reports_every_bad_field(api):
    register(api)

    response = register(api, password="123", timezone="Mars/Olympus")

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid"
    assert set(error["fields"]) >= {"timezone"}
    # The service runs once the serializer is happy: duplicate email and weak password.
    response = register(api, password="123")
    assert set(response.json()["error"]["fields"]) == {"email", "password"}
    assert User.objects.filter(email="zoe@example.com").count() == 1


@pytest.mark.django_db
def test_wrong_password_is_401_in_the_error_shape(api, learner):
    response = api.post(
        "/api/v1/auth/login", {"email": learner.email, "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


@pytest.mark.django_db
def test_login_is_throttled(api, learner, settings):
    settings.AXES_FAILURE_LIMIT = 100  # the per-minute rate, not the lockout, is under test
    allowed, _ = AuthRateThrottle().parse_rate(AuthRateThrottle.THROTTLE_RATES["auth"])
    body = {"email": learner.email, "password": "wrong"}

    statuses = [
        api.post("/api/v1/auth/login", body, format="json").status_code for _ in range(allowed + 1)
    ]

    assert statuses == [401] * allowed + [429]


@pytest.mark.django_db
def test_profile_patch_merges_preferences_and_keeps_skill_levels_read_only(as_user, learner):
    learner.profile.skill_levels = {"python": 4}
    learner.profile.preferences = {"weekly_hours": 5, "study_days": ["mon"]}
    learner.profile.save()
    api = as_user(learner)

    response = api.patch(
        "/api/v1/profile",
        {"preferences": {"weekly_hours": 7.5}, "skill_levels": {"python": 10}, "full_name": "A"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["preferences"] == {"weekly_hours": 7.5, "study_days": ["mon"]}
    assert body["skill_levels"] == {"python": 4}
    assert body["full_name"] == "A"


@pytest.mark.django_db
def test_profile_rejects_unknown_timezone_and_preferences(as_user, learner):
    response = as_user(learner).patch(
        "/api/v1/profile",
        {"timezone": "Europe/Atlantis", "preferences": {"study_days": ["someday"]}},
        format="json",
    )

    fields = response.json()["error"]["fields"]
    assert response.status_code == 400
    assert "Europe/Atlantis" in fields["timezone"][0]
    assert "preferences.study_days.0" in fields
    learner.profile.refresh_from_db()
    assert learner.profile.timezone == "UTC"


@pytest.mark.django_db
def test_login_works_while_redis_is_down(api, learner, tmp_path):
    # The throttle counts in the Redis cache; point it at a socket nobody serves.
    no_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"unix://{tmp_path}/no-redis.sock",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    with override_settings(CACHES=no_redis):
        response = api.post(
            "/api/v1/auth/login",
            {"email": learner.email, "password": "correct-horse-battery"},
            format="json",
        )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
