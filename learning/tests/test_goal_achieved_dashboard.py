"""QA walk (issue 13): after "Mark this goal achieved" on the path page, the dashboard said
"Set your first goal". It now greets the learner for the goal they achieved, page and API,
on the read right after the action (the dashboard is cached per data version: these tests
commit, so the cache is really filled and read)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import LearnerFactory
from catalog.demo_seed import seed_demo
from catalog.models import Skill
from insights.dashboard import CACHE_HEADER
from insights.services import learning_path_generate
from learning.services import goal_abandon
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plain_static")]
NOW = timezone.now()


@pytest.fixture
def python_goal():
    """A learner in Europe/Berlin on the demo catalogue, with a planned goal on Python."""
    seed_demo(now=NOW - timedelta(days=1))
    learner = LearnerFactory(profile__timezone="Europe/Berlin")
    goal = LearningGoalFactory(learner=learner, title="Learn Python")
    GoalSkillFactory(goal=goal, skill=Skill.objects.get(slug="python"), target_level=7)
    learning_path_generate(goal=goal, now=NOW)
    return goal


def test_the_dashboard_after_marking_a_goal_achieved_acknowledges_it(client, as_user, python_goal):
    client.force_login(python_goal.learner)
    dashboard = reverse("learning:dashboard")
    client.get(dashboard)
    cached = client.get(dashboard)
    assert cached[CACHE_HEADER] == "hit"  # the goal card, served from the cache
    assert "Learn Python" in cached.content.decode()

    path = reverse("insights:path", args=[python_goal.pk])
    done = client.post(
        reverse("learning:goal_achieve", args=[python_goal.pk]), {"next": path}, follow=True
    )
    assert done.redirect_chain[-1][0] == path
    page = client.get(dashboard)

    assert page[CACHE_HEADER] == "miss"  # the action moved the learner's version on
    html = page.content.decode()
    assert "You achieved “Learn Python”." in html
    assert "Set your next goal" in html
    assert "Set your first goal" not in html
    assert 'id="achieved-goals"' in html
    api = as_user(python_goal.learner).get("/api/v1/ai/dashboard").json()
    assert api["current_goals"] == []
    assert api["achieved_goals"] == [{"id": python_goal.pk, "title": "Learn Python"}]
    assert api["ended_goals"] == 1


def test_an_abandoned_goal_is_not_called_achieved_nor_the_next_one_first(client, python_goal):
    client.force_login(python_goal.learner)
    client.get(reverse("learning:dashboard"))

    goal_abandon(goal=python_goal, now=NOW)
    html = client.get(reverse("learning:dashboard")).content.decode()

    assert "Set a new goal" in html
    assert "You achieved" not in html
    assert "Set your first goal" not in html


def test_a_new_learner_still_sets_a_first_goal(client, as_user):
    learner = LearnerFactory()
    client.force_login(learner)

    assert "Set your first goal" in client.get(reverse("learning:dashboard")).content.decode()
    api = as_user(learner).get("/api/v1/ai/dashboard").json()
    assert (api["achieved_goals"], api["ended_goals"]) == ([], 0)
