from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.services import difficulty_changed_at, set_difficulty, user_register
from insights.models import PendingJob
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db


def test_register_creates_learner_with_profile_and_lowercased_email():
    user = user_register(
        email="  Maya.Lin@Example.COM ",
        password="a-long-unusual-passphrase",
        full_name="Maya Lin",
        timezone="Europe/Paris",
    )

    assert user.email == "maya.lin@example.com"
    assert user.role == User.Role.LEARNER
    assert not user.is_staff
    assert user.check_password("a-long-unusual-passphrase")
    assert user.profile.timezone == "Europe/Paris"


def test_register_reports_every_field_problem_at_once():
    with pytest.raises(ValidationError) as excinfo:
        user_register(email="not-an-email", password="123", timezone="Mars/Olympus")

    errors = excinfo.value.message_dict
    assert errors["email"] == ["Enter a valid email address."]
    assert errors["timezone"] == ["Unknown time zone “Mars/Olympus”."]
    assert (
        "This password is too short. It must contain at least 8 characters." in (errors["password"])
    )
    assert "This password is entirely numeric." in errors["password"]
    assert User.objects.count() == 0


def test_register_rejects_an_existing_email_in_any_case():
    user_register(email="sam@example.com", password="a-long-unusual-passphrase")

    with pytest.raises(ValidationError) as excinfo:
        user_register(email="SAM@example.com", password="another-long-passphrase")

    assert excinfo.value.message_dict == {
        "email": ["An account with this email address already exists."]
    }
    assert User.objects.count() == 1


def test_register_rejects_password_similar_to_email():
    with pytest.raises(ValidationError) as excinfo:
        user_register(email="jonathan.harker@example.com", password="jonathan.harker")

    assert excinfo.value.message_dict["password"] == [
        "The password is too similar to the email address."
    ]


def test_set_difficulty_records_only_a_real_change(learner):
    profile = learner.profile
    at = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)

    same = set_difficulty(profile=profile, level="beginner", now=at)
    assert (same, difficulty_changed_at(profile)) == (False, None)

    moved = set_difficulty(profile=profile, level="intermediate", now=at)
    assert (moved, profile.current_difficulty, difficulty_changed_at(profile)) == (
        True,
        "intermediate",
        at,
    )


def test_sign_up_defers_the_learners_first_recommendations():
    user = user_register(email="new@example.com", password="a-long-unusual-passphrase")

    assert list(PendingJob.objects.values_list("task_name", "kwargs")) == [
        (LEARNER_FOLLOW_UP, {"learner_id": user.pk})
    ]


def test_a_failed_sign_up_defers_nothing():
    with pytest.raises(ValidationError):
        user_register(email="not-an-email", password="a-long-unusual-passphrase")

    assert not PendingJob.objects.exists()
