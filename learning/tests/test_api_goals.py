"""The goal API's abandon and delete go through the services (outbox follow-up)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from catalog.tests.factories import SkillFactory
from insights.models import PendingJob
from learning.models import LearningGoal
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def goal(learner):
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=SkillFactory(slug="python"), target_level=7)
    return goal


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_abandon_keeps_the_goal_as_history(learner, goal):
    response = _api(learner).post(f"/api/v1/learning/goals/{goal.pk}/abandon/")

    assert response.status_code == 200
    assert response.json()["status"] == "abandoned"
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ABANDONED
    assert PendingJob.objects.filter(kwargs={"learner_id": learner.pk}).count() == 1


def test_delete_removes_the_goal_and_follows_up(learner, goal):
    response = _api(learner).delete(f"/api/v1/learning/goals/{goal.pk}/")

    assert response.status_code == 204
    assert not LearningGoal.objects.exists()
    assert PendingJob.objects.filter(kwargs={"learner_id": learner.pk}).count() == 1


def test_another_learners_goal_cannot_be_abandoned(other_learner, goal):
    response = _api(other_learner).post(f"/api/v1/learning/goals/{goal.pk}/abandon/")

    assert response.status_code == 404
    goal.refresh_from_db()
    assert goal.status == LearningGoal.Status.ACTIVE
    assert not PendingJob.objects.exists()


def test_abandon_needs_a_signed_in_caller(goal):
    assert APIClient().post(f"/api/v1/learning/goals/{goal.pk}/abandon/").status_code == 401
