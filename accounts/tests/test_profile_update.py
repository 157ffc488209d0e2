"""profile_update: one profile write for onboarding, the profile API and the admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import LearnerProfile
from accounts.services import NOTIFICATION_KINDS, difficulty_changed_at, profile_update
from catalog.tests.factories import SkillFactory
from skillstudio.data_versions import learner_version

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _row(learner) -> tuple:
    profile = LearnerProfile.objects.get(user=learner)
    return (
        profile.timezone,
        profile.preferences,
        profile.current_difficulty,
        difficulty_changed_at(profile),
    )


def _admin_post(client, admin_user, learner, **profile) -> None:
    current = LearnerProfile.objects.get(user=learner)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_change", args=[learner.pk]),
        {
            "email": learner.email,
            "full_name": learner.full_name,
            "role": learner.role,
            "is_active": "on",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": str(current.pk),
            "profile-0-user": str(learner.pk),
            "profile-0-timezone": current.timezone,
            "profile-0-current_difficulty": current.current_difficulty,
            "profile-0-preferences": json.dumps(current.preferences),
            **{f"profile-0-{name}": value for name, value in profile.items()},
        },
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors


def _api(learner) -> APIClient:
    api = APIClient()
    api.force_authenticate(learner)
    return api


@pytest.mark.parametrize("door", ["account", "api", "admin"])
def test_time_zone_change_is_the_same_row_through_every_door(
    door, client, learner, admin_user, django_capture_on_commit_callbacks
):
    SkillFactory(slug="python", name="Python")
    before = learner_version(learner.pk)

    with django_capture_on_commit_callbacks(execute=True):
        if door == "account":
            client.force_login(learner)
            response = client.post(
                reverse("accounts:account"),
                {
                    "full_name": learner.full_name,
                    "timezone": "Asia/Tokyo",
                    "weekly_hours": "5",
                    "notifications": list(NOTIFICATION_KINDS),
                },
            )
            assert response.status_code == 302
        elif door == "api":
            response = _api(learner).patch(
                "/api/v1/profile", {"timezone": "Asia/Tokyo"}, format="json"
            )
            assert response.status_code == 200
        else:
            _admin_post(client, admin_user, learner, timezone="Asia/Tokyo")

    assert _row(learner) == ("Asia/Tokyo", {"weekly_hours": 5}, "beginner", None)
    assert learner_version(learner.pk) != before


@pytest.mark.parametrize("door", ["api", "admin"])
def test_preferences_and_time_zone_are_the_same_row_through_api_and_admin(
    door, client, learner, admin_user
):
    wanted = {"weekly_hours": 7.5, "study_days": ["mon", "thu"]}

    if door == "api":
        response = _api(learner).patch(
            "/api/v1/profile",
            # Keys not sent are kept: weekly_hours 5 is replaced, study_days added.
            {
                "timezone": "Europe/Paris",
                "preferences": {"weekly_hours": 7.5, "study_days": ["mon", "thu"]},
            },
            format="json",
        )
        assert response.status_code == 200
    else:
        _admin_post(
            client, admin_user, learner, timezone="Europe/Paris", preferences=json.dumps(wanted)
        )

    assert _row(learner) == ("Europe/Paris", wanted, "beginner", None)


def test_difficulty_change_records_when_and_a_same_level_does_not(learner):
    profile = LearnerProfile.objects.get(user=learner)

    profile_update(profile=profile, now=NOW, current_difficulty="advanced")
    profile_update(
        profile=LearnerProfile.objects.get(user=learner),
        now=datetime(2026, 12, 2, tzinfo=UTC),
        current_difficulty="advanced",
    )

    stored = LearnerProfile.objects.get(user=learner)
    assert (stored.current_difficulty, difficulty_changed_at(stored)) == ("advanced", NOW)


def test_bad_values_are_all_reported_and_nothing_is_stored(learner):
    profile = LearnerProfile.objects.get(user=learner)

    with pytest.raises(ValidationError) as error:
        profile_update(
            profile=profile,
            now=NOW,
            timezone="Europe/Atlantis",
            current_difficulty="wizard",
            preferences={"weekly_hours": 200, "study_days": ["mon", "someday"], "colour": "red"},
        )

    assert sorted(error.value.message_dict) == [
        "current_difficulty",
        "preferences.colour",
        "preferences.study_days.1",
        "preferences.weekly_hours",
        "timezone",
    ]
    assert _row(learner) == ("UTC", {"weekly_hours": 5}, "beginner", None)


def test_admin_shows_the_services_problems_on_the_profile_fields(client, admin_user, learner):
    client.force_login(admin_user)
    current = LearnerProfile.objects.get(user=learner)

    response = client.post(
        reverse("admin:accounts_user_change", args=[learner.pk]),
        {
            "email": learner.email,
            "full_name": learner.full_name,
            "role": learner.role,
            "is_active": "on",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "1",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-id": str(current.pk),
            "profile-0-user": str(learner.pk),
            "profile-0-timezone": "Mars/Olympus",
            "profile-0-current_difficulty": "beginner",
            "profile-0-preferences": '{"weekly_hours": 0}',
        },
    )

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "Mars/Olympus" in errors["timezone"][0]
    assert errors["preferences"] == [
        "preferences.weekly_hours: Give a number of hours from 0.5 to 80."
    ]
    assert _row(learner) == ("UTC", {"weekly_hours": 5}, "beginner", None)
