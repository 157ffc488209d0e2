"""QA walk (issue 13), small wording on the demo catalogue: "the 1 it leaves out do not
count"; "Regenerate path" offered on an achieved goal; "Start a lesson today to build your
learning streak" beside the 1-day streak the page shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from assessments.services import skill_check_start
from assessments.tests.adaptive import run_to_end
from catalog.demo_seed import seed_demo
from catalog.models import Skill
from insights.analytics import learning_pace
from insights.models import LearningPathSnapshot
from insights.services import learning_path_generate
from learning.models import LearningGoal
from learning.services import goal_achieve
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()


@pytest.fixture
def python_goal():
    """A new learner whose goal asks for Python only: the path takes Python Fundamentals
    and leaves out its one data structures lesson."""
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory()
    goal = LearningGoalFactory(learner=learner, title="Learn Python")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="python"), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    return goal


def test_one_left_out_lesson_is_singular(python_goal):
    pace = learning_pace(goal=python_goal, now=NOW)

    assert "(the lessons it asks for: the 1 lesson it leaves out does not count)" in pace.reason


def test_an_achieved_goal_offers_no_regenerate_and_the_endpoints_refuse(
    client, as_user, python_goal
):
    learner = python_goal.learner
    client.force_login(learner)
    url = reverse("insights:path", args=[python_goal.pk])
    assert "Regenerate path" in client.get(url).content.decode()

    goal_achieve(goal=python_goal, now=NOW)
    html = client.get(url).content.decode()

    assert "Regenerate path" not in html
    assert reverse("insights:path_generate", args=[python_goal.pk]) not in html
    assert "This goal is achieved: its path stays as last planned" in html
    # A stale page posting anyway: told why, nothing written.
    page = client.post(
        reverse("insights:path_generate", args=[python_goal.pk]), follow=True
    ).content.decode()
    assert "is achieved: only active goals get a path." in page
    api = as_user(learner).post(
        "/api/v1/ai/generate-learning-path", {"goal_id": python_goal.pk}, format="json"
    )
    assert api.status_code == 400
    assert "only active goals get a path" in str(api.json())
    assert LearningPathSnapshot.objects.filter(goal=python_goal).count() == 1
    assert LearningGoal.objects.get(pk=python_goal.pk).status == "achieved"


def test_a_one_day_streak_is_not_told_to_start_one(client):
    """A new learner whose only study today was a skill check: a 1-day streak."""
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory()
    start = NOW - timedelta(minutes=30)
    check = skill_check_start(learner=learner, skill=Skill.objects.get(slug="sql"), now=start)
    run_to_end(check, lambda question: True, start=start)
    client.force_login(learner)

    api = client.get("/api/v1/ai/dashboard").json()
    page = client.get(reverse("learning:dashboard")).content.decode()

    assert api["performance_summary"]["current_streak"] == 1
    message = api["ai_insights"]["personalized_message"]
    assert message == "You have a 1-day learning streak: a lesson each day keeps it growing."
    assert "build your learning streak" not in page
    assert message in page
