"""The dashboard read right after a skill check or course challenge shows what it settled.

These tests commit (transaction=True): data versions move on commit and the dashboard cache
is skipped inside a transaction, so only committed writes show whether the next read (served
through the cache, as the page does) is current. No worker runs: the deferred follow-up
never does here, as when the learner is quicker than the worker.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from assessments.services import course_challenge_start, skill_check_start
from assessments.tests.adaptive import NOW, make_bank, run_to_end
from catalog.tests.factories import CourseFactory, LessonFactory, ModuleFactory
from insights.dashboard import cached_learner_dashboard, learner_dashboard
from insights.models import Recommendation
from insights.recommendations import refresh_recommendations
from insights.tests.factories import LearnerSkillStateFactory
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db(transaction=True)

LATER = NOW + timedelta(minutes=30)


@pytest.fixture
def world(learner):
    """A goal on python (target 5) the learner is far from, and a "Review Python" card."""
    bank = make_bank(("python",))
    python = bank["skills"]["python"]
    course = CourseFactory(title="Python Fundamentals", skills=[python])
    module = ModuleFactory(course=course, title="Basics", order=1)
    LessonFactory(module=module, title="Variables", order=1, skills=[python])
    LearnerSkillStateFactory(
        learner=learner,
        skill=python,
        level=2,
        mastery=0.15,
        evidence_count=3,
        correct_count=0,
        distinct_questions=3,
        last_practiced_at=NOW - timedelta(days=3),
    )
    goal = LearningGoalFactory(learner=learner, title="Back end")
    GoalSkillFactory(goal=goal, skill=python, target_level=5)
    refresh_recommendations(learner=learner, now=NOW)
    return {"learner": learner, "python": python, "course": course, "goal": goal}


def _revision_cards(data: dict) -> list[str]:
    return [card["title"] for card in data["recommendations"] if card["kind"] == "revision"]


def _python_target(data: dict) -> dict:
    (goal,) = data["current_goals"]
    (target,) = goal["target_skills"]
    return target


def _dashboard(learner) -> dict:
    data, _hit = cached_learner_dashboard(
        learner=type(learner).objects.get(pk=learner.pk), now=LATER
    )
    return data


def test_the_dashboard_after_a_skill_check_shows_the_reached_target_and_drops_the_review(world):
    learner = world["learner"]
    before = _dashboard(learner)  # the page as the learner last saw it, now cached
    assert _python_target(before)["target_reached"] is False
    assert _revision_cards(before) == ["Variables"]

    run_to_end(skill_check_start(learner=learner, skill=world["python"], now=NOW), lambda q: True)

    after = _dashboard(learner)
    assert _python_target(after)["state"] == "proficient"
    assert _python_target(after)["target_reached"] is True
    # The card that sent the learner to revise python is gone, without waiting for a worker.
    assert _revision_cards(after) == []
    assert not Recommendation.objects.filter(
        learner=learner, status=Recommendation.Status.ACTIVE, kind="revision"
    ).exists()
    assert after == learner_dashboard(learner=learner, now=LATER)
    assert before["current_goals"][0]["all_targets_reached"] is False
    assert after["current_goals"][0]["all_targets_reached"] is True


def test_the_goal_card_offers_to_mark_the_goal_achieved_once_every_target_is_reached(
    client, world, other_learner
):
    learner = world["learner"]
    client.force_login(learner)
    page = client.get(reverse("learning:dashboard")).content.decode()
    assert "Every target reached" not in page
    assert "Pace:" in page

    run_to_end(skill_check_start(learner=learner, skill=world["python"], now=NOW), lambda q: True)

    page = client.get(reverse("learning:dashboard")).content.decode()
    assert "Every target reached" in page
    achieve = reverse("learning:goal_achieve", args=[world["goal"].pk])
    assert f'action="{achieve}"' in page
    # Someone else cannot mark it; the learner can, and lands back on the dashboard.
    client.force_login(other_learner)
    assert client.post(achieve).status_code == 404
    client.force_login(learner)
    response = client.post(achieve, {"next": reverse("learning:dashboard")})
    assert response["Location"] == reverse("learning:dashboard")
    world["goal"].refresh_from_db()
    assert world["goal"].status == "achieved"


def test_the_dashboard_after_a_passed_course_challenge_is_current(world):
    learner = world["learner"]
    before = _dashboard(learner)
    assert _revision_cards(before) == ["Variables"]

    attempt = course_challenge_start(learner=learner, course=world["course"], now=NOW)
    run_to_end(attempt, lambda q: True)

    after = _dashboard(learner)
    assert _python_target(after)["target_reached"] is True
    assert _revision_cards(after) == []
