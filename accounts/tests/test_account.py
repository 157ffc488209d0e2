"""The account page, goal management from it, and password reset by e-mail (web and API)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.api import AuthRateThrottle
from accounts.models import LearnerProfile
from accounts.services import NOTIFICATION_KINDS, email_notifications, profile_update
from assessments.models import Assessment
from assessments.tests.factories import AssessmentFactory, QuestionFactory
from catalog.tests.factories import SkillFactory
from learning.models import LearningGoal
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _profile_post(**overrides) -> dict:
    return {
        "full_name": "Alice Renamed",
        "timezone": "Europe/Berlin",
        "weekly_hours": "6.5",
        "content_types": ["video", "text"],
        "study_days": ["mon", "sat"],
        "notifications": ["study_reminders"],
        **overrides,
    }


# --- Account page ----------------------------------------------------------------------


def test_account_page_needs_login(client):
    response = client.get(reverse("accounts:account"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_account_page_shows_only_the_owners_goals(client, learner, other_learner):
    LearningGoalFactory(learner=learner, title="Become a data analyst")
    LearningGoalFactory(learner=other_learner, title="Bob's secret plan")
    client.force_login(learner)

    html = client.get(reverse("accounts:account")).content.decode()

    assert "Become a data analyst" in html
    assert "Bob&#x27;s secret plan" not in html and "Bob's secret plan" not in html
    assert 'aria-label="Edit goal: Become a data analyst"' in html
    assert 'aria-label="Mark achieved: Become a data analyst"' in html


def test_account_page_saves_profile_preferences_and_notifications(client, learner):
    client.force_login(learner)

    response = client.post(reverse("accounts:account"), _profile_post())

    assert response.status_code == 302
    profile = LearnerProfile.objects.select_related("user").get(user=learner)
    assert profile.user.full_name == "Alice Renamed"
    assert profile.timezone == "Europe/Berlin"
    assert profile.preferences == {
        "weekly_hours": 6.5,
        "content_types": ["video", "text"],
        "study_days": ["mon", "sat"],
        "notifications": ["study_reminders"],
    }
    assert email_notifications(profile) == {"study_reminders"}
    # The page shows what was saved.
    html = client.get(reverse("accounts:account")).content.decode()
    assert 'value="Europe/Berlin" selected' in html
    assert 'value="sat" id="id_study_days_5" checked' in html


def test_account_page_rejects_bad_input_with_a_400_and_keeps_the_profile(client, learner):
    client.force_login(learner)

    response = client.post(
        reverse("accounts:account"),
        _profile_post(timezone="Mars/Olympus", weekly_hours="500", study_days=["someday"]),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "Please fix the problems below." in html
    profile = LearnerProfile.objects.get(user=learner)
    assert profile.timezone == "UTC"
    assert profile.preferences == {"weekly_hours": 5}


def test_notifications_default_to_all_and_can_all_be_turned_off(learner):
    profile = learner.profile
    assert email_notifications(profile) == set(NOTIFICATION_KINDS)

    profile_update(profile=profile, now=NOW, preferences={"notifications": []})

    assert email_notifications(LearnerProfile.objects.get(pk=profile.pk)) == frozenset()


# --- Goals from the account page -------------------------------------------------------


def test_goal_edit_changes_title_levels_and_hours(client, learner):
    python = SkillFactory(slug="python", name="Python")
    SkillFactory(slug="sql", name="SQL")
    goal = LearningGoalFactory(learner=learner, title="Old title", weekly_hours=5)
    GoalSkillFactory(goal=goal, skill=python, target_level=6)
    client.force_login(learner)

    page = client.get(reverse("learning:goal_edit", args=[goal.pk])).content.decode()
    assert 'value="Old title"' in page
    assert '<option value="6" selected>' in page

    response = client.post(
        reverse("learning:goal_edit", args=[goal.pk]),
        {"title": "New title", "level_python": "", "level_sql": "8", "weekly_hours": "3"},
    )

    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.title == "New title"
    assert goal.weekly_hours == 3
    assert {t.skill.slug: t.target_level for t in goal.target_skills.all()} == {"sql": 8}


def test_goal_edit_without_any_skill_is_a_400(client, learner):
    python = SkillFactory(slug="python", name="Python")
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=python, target_level=6)
    client.force_login(learner)

    response = client.post(
        reverse("learning:goal_edit", args=[goal.pk]),
        {"title": "Nothing", "level_python": "", "weekly_hours": "3"},
    )

    assert response.status_code == 400
    assert goal.target_skills.count() == 1


@pytest.mark.parametrize("name", ["learning:goal_edit", "learning:goal_achieve"])
def test_goal_pages_of_another_learner_are_404_and_anonymous_is_sent_to_login(
    client, learner, other_learner, name
):
    goal = LearningGoalFactory(learner=other_learner)
    url = reverse(name, args=[goal.pk])

    anonymous = client.post(url) if name.endswith("achieve") else client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))

    client.force_login(learner)
    response = client.post(url) if name.endswith("achieve") else client.get(url)
    assert response.status_code == 404
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ACTIVE


def test_mark_achieved_and_abandon_return_to_the_account_page(client, learner):
    reached = LearningGoalFactory(learner=learner, title="Reached")
    dropped = LearningGoalFactory(learner=learner, title="Dropped")
    client.force_login(learner)
    back = reverse("accounts:account")

    achieved = client.post(reverse("learning:goal_achieve", args=[reached.pk]), {"next": back})
    abandoned = client.post(reverse("learning:goal_abandon", args=[dropped.pk]), {"next": back})

    assert achieved["Location"] == back
    assert abandoned["Location"] == back
    reached.refresh_from_db()
    dropped.refresh_from_db()
    assert reached.status == LearningGoal.Status.ACHIEVED
    assert dropped.status == LearningGoal.Status.ABANDONED
    html = client.get(back).content.decode()
    assert "Reached · Achieved" in html
    assert "Dropped · Abandoned" in html


def test_goal_action_never_redirects_off_site(client, learner):
    goal = LearningGoalFactory(learner=learner)
    client.force_login(learner)

    response = client.post(
        reverse("learning:goal_achieve", args=[goal.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("accounts:account")


def test_a_second_goal_is_not_step_1_and_does_not_send_to_the_diagnostic(client, learner):
    python = SkillFactory(slug="python", name="Python")
    diagnostic = AssessmentFactory(kind=Assessment.Kind.DIAGNOSTIC, title="Python check")
    QuestionFactory(assessment=diagnostic, skill=python)
    profile_update(profile=learner.profile, now=NOW, onboarded=True)
    client.force_login(learner)

    page = client.get(reverse("learning:goal_new")).content.decode()
    response = client.post(
        reverse("learning:goal_new"),
        {"title": "Second goal", "level_python": "9", "weekly_hours": "2"},
    )

    assert "Step 1 of 2" not in page
    assert "Add a goal" in page
    assert 'name="timezone"' not in page
    goal = LearningGoal.objects.get(learner=learner, title="Second goal")
    assert response["Location"] == reverse("insights:path", args=[goal.pk])


def test_first_goal_is_step_1_and_does_not_ask_the_time_zone_again(client, learner):
    client.force_login(learner)

    page = client.get(reverse("learning:onboarding")).content.decode()

    assert "Step 1 of 2" in page
    assert 'name="timezone"' not in page


# --- Password reset by e-mail ----------------------------------------------------------


def _reset_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_password_reset_by_email_end_to_end(client, learner):
    response = client.post(reverse("accounts:password_reset"), {"email": "ALICE@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    assert message.subject == "Reset your SkillStudio password"

    # The link redirects to a token-free URL, then sets the password once.
    form_page = client.get(_reset_link(message), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url,
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert done["Location"] == reverse("accounts:password_reset_complete")
    learner.refresh_from_db()
    assert learner.check_password("a-brand-new-passphrase")

    # The same link does not work twice.
    again = client.get(_reset_link(message), follow=True)
    assert "This link no longer works" in again.content.decode()


def test_password_reset_for_unknown_address_says_the_same_and_sends_nothing(client, db):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_is_throttled_per_client(client, learner):
    allowed, _ = AuthRateThrottle().parse_rate(AuthRateThrottle.THROTTLE_RATES["password_reset"])
    url = reverse("accounts:password_reset")

    codes = [client.post(url, {"email": learner.email}).status_code for _ in range(allowed + 1)]

    assert codes == [302] * allowed + [429]
    assert len(mail.outbox) == allowed


def test_api_password_reset_shares_the_web_pages_limit(client, api, learner):
    allowed, _ = AuthRateThrottle().parse_rate(AuthRateThrottle.THROTTLE_RATES["password_reset"])
    for _ in range(allowed):
        client.post(reverse("accounts:password_reset"), {"email": learner.email})

    response = api.post("/api/v1/auth/password-reset", {"email": learner.email}, format="json")

    assert response.status_code == 429
    assert len(mail.outbox) == allowed


def test_login_page_links_to_password_reset(client, db):
    html = client.get(reverse("accounts:login")).content.decode()

    assert reverse("accounts:password_reset") in html


# --- The same through the API ----------------------------------------------------------


def test_api_password_reset_request_and_confirm(api, learner):
    response = api.post("/api/v1/auth/password-reset", {"email": learner.email}, format="json")

    assert response.status_code == 202
    link = _reset_link(mail.outbox[0])
    uid, token = link.rstrip("/").split("/")[-2:]

    weak = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "123"},
        format="json",
    )
    assert weak.status_code == 400
    assert "new_password" in weak.json()["error"]["fields"]

    ok = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "a-brand-new-passphrase"},
        format="json",
    )
    assert ok.status_code == 200
    learner.refresh_from_db()
    assert learner.check_password("a-brand-new-passphrase")

    reused = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": "another-new-passphrase"},
        format="json",
    )
    assert reused.status_code == 400


@pytest.mark.parametrize("uid", ["", "!!!", "MTIzNDU2Nzg5"])
def test_api_password_reset_confirm_with_a_bad_link_is_a_400(api, learner, uid):
    response = api.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": "nope", "new_password": "a-brand-new-passphrase"},
        format="json",
    )

    assert response.status_code == 400


def test_api_password_reset_unknown_address_is_the_same_202(api, db):
    response = api.post("/api/v1/auth/password-reset", {"email": "x@example.com"}, format="json")

    assert response.status_code == 202
    assert mail.outbox == []


def test_api_goal_achieve_owner_other_anonymous(api, as_user, learner, other_learner):
    goal = LearningGoalFactory(learner=learner)
    url = f"/api/v1/learning/goals/{goal.pk}/achieve/"

    assert api.post(url).status_code == 401
    assert as_user(other_learner).post(url).status_code == 404
    response = as_user(learner).post(url)

    assert response.status_code == 200
    assert response.json()["status"] == "achieved"
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ACHIEVED
    assert goal.updated_at <= timezone.now()


def test_api_profile_notifications_round_trip(as_user, learner):
    api = as_user(learner)

    bad = api.patch("/api/v1/profile", {"preferences": {"notifications": ["spam"]}}, format="json")
    wanted = {"preferences": {"notifications": ["instructor_messages"]}}
    ok = api.patch("/api/v1/profile", wanted, format="json")

    assert bad.status_code == 400
    assert ok.status_code == 200
    assert ok.json()["preferences"] == {"weekly_hours": 5, "notifications": ["instructor_messages"]}


@pytest.mark.parametrize("goals", [1, 25])
def test_account_page_query_count_does_not_grow_with_goals(
    client, learner, goals, django_assert_max_num_queries
):
    for index in range(goals):
        LearningGoalFactory(learner=learner, title=f"Goal {index}")
    client.force_login(learner)

    # Session, user, profile, goals; plus the messages/session bookkeeping.
    with django_assert_max_num_queries(6):
        response = client.get(reverse("accounts:account"))

    assert response.status_code == 200
    assert response.content.decode().count("Mark achieved</button>") == goals
