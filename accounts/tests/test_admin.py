from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import LearnerProfile, User

pytestmark = pytest.mark.django_db

USERS = reverse("admin:accounts_user_changelist")


def test_admin_creates_user_with_email_login_and_profile(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Teacher@Example.com",
            "full_name": "New Teacher",
            "role": "instructor",
            "usable_password": "true",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(email="new.teacher@example.com")
    assert user.check_password("a-long-unusual-passphrase")
    assert (user.role, user.is_staff) == (User.Role.INSTRUCTOR, True)
    assert LearnerProfile.objects.filter(user=user).exists()


def test_user_change_page_shows_profile_inline(client, admin_user, learner):
    client.force_login(admin_user)

    response = client.get(reverse("admin:accounts_user_change", args=[learner.pk]))

    assert response.status_code == 200
    assert [i.formset.prefix for i in response.context["inline_admin_formsets"]] == ["profile"]


def test_instructor_and_learner_cannot_manage_users(client, instructor, learner):
    client.force_login(instructor)
    assert client.get(USERS).status_code == 403
    assert client.get(reverse("admin:accounts_user_change", args=[learner.pk])).status_code == 403

    client.force_login(learner)
    response = client.get(USERS)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_admin_login_form_uses_email(client, instructor):
    response = client.post(
        reverse("admin:login"),
        {"username": "ines@example.com", "password": "correct-horse-battery", "next": "/admin/"},
    )

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def change_profile(client, learner, **profile) -> None:
    """Post the user change page as an admin would, with these learner-profile values."""
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
            "profile-0-timezone": current.timezone,
            "profile-0-current_difficulty": current.current_difficulty,
            "profile-0-preferences": "{}",
            **{f"profile-0-{name}": value for name, value in profile.items()},
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_admin_difficulty_change_is_recorded_for_the_difficulty_advice(client, admin_user, learner):
    client.force_login(admin_user)
    before = timezone.now()

    change_profile(client, learner, current_difficulty="advanced")
    changed = LearnerProfile.objects.get(user=learner)
    change_profile(client, learner, timezone="Europe/Paris")
    later = LearnerProfile.objects.get(user=learner)

    stamp = changed.difficulty_changed_at
    assert changed.current_difficulty == "advanced"
    assert before <= stamp <= timezone.now()
    # Editing something else keeps the moment of the last level change.
    assert later.timezone == "Europe/Paris"
    assert later.difficulty_changed_at == changed.difficulty_changed_at
