"""Generating a path and acting on a recommendation leave the same trace through the page
and the API (see learning.tests.doors)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory, SkillFactory
from insights.models import LearningPathSnapshot, Recommendation
from insights.services import learning_path_generate, recommendation_act
from insights.tests.factories import RecommendationFactory
from learning.models import LearningGoal
from learning.tests.doors import compare_doors
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db

DOORS = ["html", "api"]


@pytest.fixture
def html(client, learner):
    client.force_login(learner)
    return client


@pytest.fixture
def api(learner):
    api = APIClient()
    api.force_authenticate(learner)
    return api


@pytest.fixture
def goals(learner, other_learner):
    python = SkillFactory(slug="python", name="Python")
    course = CourseFactory(title="Python Basics", slug="python-basics", skills=[python])
    LessonFactory(module=ModuleFactory(course=course, order=1), order=1, skills=[python])
    goals = {}
    for someone in (learner, other_learner):
        goal = LearningGoalFactory(learner=someone, title="Backend developer", weekly_hours=4)
        GoalSkillFactory(goal=goal, skill=python, target_level=8)
        goals[someone.pk] = goal
    return goals


@pytest.mark.parametrize("again", ["first", "changed", "unchanged"])
@pytest.mark.parametrize("door", DOORS)
def test_learning_path_generate(
    door, again, goals, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    mine, twins = goals[learner.pk], goals[other_learner.pk]
    if again != "first":  # a re-plan is a manual version through every door...
        for goal in (mine, twins):
            learning_path_generate(goal=goal, now=timezone.now())
    if again == "changed":  # ...when the plan changes: 10 hours now take 10 weeks, not 3
        LearningGoal.objects.filter(pk__in=[mine.pk, twins.pk]).update(weekly_hours=1)
        mine.refresh_from_db()
        twins.refresh_from_db()
    doors = {
        "html": lambda: html.post(reverse("insights:path_generate", args=[mine.pk])),
        "api": lambda: api.post(
            "/api/v1/ai/generate-learning-path", {"goal_id": mine.pk}, format="json"
        ),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: learning_path_generate(goal=twins, now=timezone.now()),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    active = LearningPathSnapshot.objects.get(goal=mine, is_active=True)
    if again == "unchanged":  # nothing would change: nothing written, nothing followed up
        assert (active.version, active.trigger) == (1, "generated")
        assert LearningPathSnapshot.objects.filter(goal=mine).count() == 1
        assert trace.rows["insights.PendingJob"] == [repr((LEARNER_FOLLOW_UP, "pending", 0))]
        return
    assert (active.version, active.trigger) == (
        (2, "manual") if again == "changed" else (1, "generated")
    )
    assert trace.counts["insights.LearningPathSnapshot"] == 1
    assert trace.rows["insights.PendingJob"] == [repr((LEARNER_FOLLOW_UP, "pending", 0))] * (
        2 if again == "changed" else 1
    )
    assert trace.versions_moved == {"learner": True, "catalog": False}


@pytest.mark.parametrize("door", DOORS)
def test_recommendation_act(
    door, learner, other_learner, html, api, django_capture_on_commit_callbacks
):
    lesson = LessonFactory(title="Variables")
    cards = {
        someone.pk: RecommendationFactory(learner=someone, lesson=lesson)
        for someone in (learner, other_learner)
    }
    mine = cards[learner.pk]
    doors = {
        "html": lambda: html.post(
            reverse("insights:recommendation_action", args=[mine.pk, "accept"])
        ),
        "api": lambda: api.post(
            f"/api/v1/ai/recommendations/{mine.pk}/action", {"action": "accepted"}, format="json"
        ),
    }

    _, trace = compare_doors(
        twin=other_learner,
        learner=learner,
        service=lambda: recommendation_act(
            recommendation=cards[other_learner.pk], action="accepted", now=timezone.now()
        ),
        door=doors[door],
        capture_on_commit=django_capture_on_commit_callbacks,
    )

    mine.refresh_from_db()
    assert mine.status == Recommendation.Status.ACCEPTED
    assert trace.counts == {}
    assert trace.versions_moved == {"learner": True, "catalog": False}
